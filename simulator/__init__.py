"""The embedded retailer: a seeded generator with ground truth, the vendor-file writer and the PostgreSQL CRM seeder.

Demo and test data only. The Dagster code location (`orchestration/`) never imports this package; it reads what this
package writes (landing folders, a CRM database) like any other delivery. `c360 generate` (c360_cli) drives it.
"""
