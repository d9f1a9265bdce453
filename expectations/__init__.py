"""Great Expectations 1.x suites: one module per gated dataset, exposing `SUITE_NAME`, `DATASET`, `build_suite()`.

Suites are Python so review diffs read as rules, not generated JSON. Thresholds are module constants beside the
expectations that use them. Modules import GX inside `build_suite()` so discovering suites stays cheap.
"""
