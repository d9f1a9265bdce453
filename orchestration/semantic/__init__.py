"""The semantic layer's query side: MetricFlow over the published marts file, read-only (`c360 metrics`)."""
