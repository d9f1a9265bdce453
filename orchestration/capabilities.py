"""What the warehouse can tell from what was delivered: one rule table from raw tables to the outputs they feed.

Only CRM customers and orders are needed (C360_REQUIRED_TABLES); every other table is optional. A table that is not
delivered lands as zero rows, and the outputs that depend on it come out empty (or their columns null) by design:
the mart gates accept them as empty, and the run summary says which capabilities are off and why. Decided from what
raw holds after the extract, so a source delivered once and kept in raw counts as delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Capability:
    name: str
    needs_any: tuple[str, ...]  # raw tables: the capability is on when any of them holds rows
    empty: tuple[str, ...]  # published tables that are empty while it is off
    off: str  # the run summary's line while it is off


CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        "marketing",
        ("google_ads_campaign_stats", "meta_ads_insights"),
        ("fct_ad_spend_daily", "dim_campaign"),
        "marketing spend empty (fct_ad_spend_daily, dim_campaign; no spend, CPA, ROAS or CAC in "
        "mart_marketing_performance and mart_channel_clv_cac): no ad platform delivered",
    ),
    Capability(
        "web",
        ("ga4_events",),
        ("fct_web_sessions",),
        "web sessions/attribution empty (fct_web_sessions; acquisition and last-touch channels unknown): no GA4 events",
    ),
    Capability(
        "marketing performance",
        ("ga4_events", "google_ads_campaign_stats", "meta_ads_insights"),
        (),
        "marketing performance by channel unknown (mart_marketing_performance holds all revenue on channel "
        "'(unknown)'): no GA4 events and no ad platform delivered",
    ),
    Capability(
        "loyalty",
        ("crm_loyalty_events",),
        ("fct_loyalty_events", "mart_loyalty", "mart_loyalty_monthly", "mart_loyalty_tier_migrations"),
        "loyalty marts empty (fct_loyalty_events, mart_loyalty, mart_loyalty_monthly, "
        "mart_loyalty_tier_migrations): no loyalty events",
    ),
    Capability(
        "order lines",
        ("crm_order_lines",),
        ("fct_order_lines",),
        "order lines empty (fct_order_lines; no product mix or cost per order): no order lines delivered",
    ),
    Capability(
        "products",
        ("crm_products",),
        ("dim_product",),
        "product catalogue empty (dim_product; no unit costs, so no gross margin): no products delivered",
    ),
    Capability(
        "support",
        ("crm_support_tickets",),
        ("fct_support_tickets",),
        "support empty (fct_support_tickets; ticket and CSAT columns of mart_customer_360 empty): no tickets",
    ),
    Capability(
        "nps",
        ("crm_nps_responses",),
        (),
        "NPS columns of mart_customer_360 empty: no NPS responses",
    ),
    Capability(
        "consents",
        ("crm_consents",),
        ("mart_audiences",),
        "audiences empty (mart_audiences; consent columns and accepts_marketing false: no consent, no marketing): "
        "no consent events",
    ),
)


def raw_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per raw table (a table raw does not have counts as 0)."""
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_name not like '\\_dlt%' escape '\\'"
        ).fetchall()
    ]
    return {t: con.execute(f'select count(*) from raw."{t}"').fetchall()[0][0] for t in tables}


def capabilities_off(con: duckdb.DuckDBPyConnection) -> list[Capability]:
    counts = raw_row_counts(con)
    return [c for c in CAPABILITIES if not any(counts.get(t, 0) for t in c.needs_any)]


def empty_by_design(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Published table -> why it is empty in this warehouse (its capability is off)."""
    return {table: c.off for c in capabilities_off(con) for table in c.empty}
