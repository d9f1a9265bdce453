"""The simulated world, one job per module (see simulator/retailer.py)."""
