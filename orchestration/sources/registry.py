"""The raw tables every source must provide: which dlt source groups them and the key a re-delivery merges on.

This is the source interface's contract. The dbt sources YAML names the same tables; a test checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawTable:
    name: str
    source: str  # dlt source / Dagster group: crm, ga4, ads
    primary_key: tuple[str, ...]


RAW_TABLES: tuple[RawTable, ...] = (
    RawTable("crm_customers", "crm", ("customer_id",)),
    RawTable("crm_products", "crm", ("product_id",)),
    RawTable("crm_orders", "crm", ("order_id",)),
    RawTable("crm_order_lines", "crm", ("order_line_id",)),
    RawTable("crm_loyalty_events", "crm", ("loyalty_event_id",)),
    RawTable("ga4_events", "ga4", ("event_id",)),
    RawTable("google_ads_campaign_stats", "ads", ("segments_date", "campaign_id")),
    RawTable("meta_ads_insights", "ads", ("date_start", "campaign_id")),
)

RAW_SOURCES: tuple[str, ...] = tuple(dict.fromkeys(t.source for t in RAW_TABLES))


def tables_of(source: str) -> tuple[RawTable, ...]:
    return tuple(t for t in RAW_TABLES if t.source == source)
