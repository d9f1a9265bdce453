"""Great Expectations 1.x suites: one module per gated dataset. Python, so a review diff reads as rules.

A suite module declares:

- `SUITE_NAME`, `DATASET` = (schema, table) and `SCOPE`: "unpublished_loads" validates the rows of every load not
  yet published (raw batches; see orchestration/extract/ledger.py), "table" validates the whole table (marts);
- `row_rules()`: column rules, run on every chunk of the batch streamed from DuckDB (bounded memory);
- `TABLE_METRICS`: a SQL select list evaluated inside DuckDB over the batch (aliased `batch`; `{as_of}` is the run's
  as-of date literal), giving one row of metrics;
- `table_rules()`: rules on that metrics row (volume, duplicate keys, freshness, not-in-future, reconciliations);
- thresholds beside them: `FRESHNESS_DAYS` (None = no freshness rule) and `VOLUME_BAND` (allowed factor around the
  volume baseline; None = no volume rule);
- optionally `VOLUME_DAY`, a SQL expression giving each row's day: the table arrives as daily increments, so its
  volume is judged per day (the batch's newest day against the published data's recent days, see
  orchestration/quality/gate.py); without it the whole delivery is compared with recent published deliveries.

A load is a `snapshot` (an export) or a `delta` (rows changed since a database cursor), as the ledger records; the
gate fills the suite parameters accordingly (`MIN_ROWS`, the volume band; see `_rules.not_empty`,
`_rules.volume_within_recent_band`, `_rules.fresh`), so one suite serves both kinds of source.

Rules are GX expectations in GX's serialised form (`_rules.Expectation`): the gates evaluate them in DuckDB without
importing GX (7-13 s); `orchestration.quality.gx_validation.gx_suite` builds GX's own suite from them.
"""
