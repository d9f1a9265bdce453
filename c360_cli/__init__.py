"""The `c360` command line: the one entry point that may drive both the pipeline (orchestration/) and the demo data
simulator (simulator/). It is not part of the Dagster code location, so importing the simulator here is allowed."""
