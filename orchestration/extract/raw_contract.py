"""The raw tables every source must provide: columns and types, the dlt source that groups them, the merge key.

This is the source interface's contract. Every source (`synthetic`, `files`, `postgres`) delivers these columns with
these Arrow types, so dbt sees one raw shape whatever the source. A delivered column that is not listed is kept
(schema drift is carried into raw, not dropped); a listed column that is missing fails the extract. A row whose
`required` column is null, or whose value cannot be parsed as the column's type, goes to quarantine.
The dbt sources YAML names the same tables; a test checks the two agree. The ad platforms' report tables and the GA4
click-id columns come from the ad platform declarations (orchestration/extract/ad_platforms/).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from orchestration.extract.ad_platforms import AD_PLATFORMS
from orchestration.warehouse import connect_scratch

TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    required: bool = False  # a null here quarantines the row


@dataclass(frozen=True)
class RawTable:
    name: str
    source: str  # dlt source / Dagster group: crm, ga4, ads
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=not c.required) for c in self.columns])

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _cols(*spec: tuple[str, pa.DataType] | tuple[str, pa.DataType, bool]) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in spec)


S, I, F, B, D, T = pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.date32(), TIMESTAMP  # noqa: E741 (short type aliases keep the column tables readable)

RAW_TABLES: tuple[RawTable, ...] = (
    RawTable(
        "crm_customers",
        "crm",
        ("customer_id",),
        _cols(
            ("customer_id", S, True),
            ("email", S),
            ("first_name", S),
            ("last_name", S),
            ("phone", S),
            ("country_code", S),
            ("acquisition_source", S),
            ("acquisition_medium", S),
            ("accepts_marketing", B),
            ("signed_up_at", T, True),
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "crm_products",
        "crm",
        ("product_id",),
        _cols(
            ("product_id", S, True),
            ("sku", S),
            ("product_name", S),
            ("category", S),
            ("list_price_usd", F),
            ("unit_cost_usd", F),
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "crm_orders",
        "crm",
        ("order_id",),
        _cols(
            ("order_id", S, True),
            ("customer_id", S),
            ("ordered_at", T, True),
            ("currency", S, True),
            ("order_total", F, True),
            ("status", S, True),
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "crm_order_lines",
        "crm",
        ("order_line_id",),
        _cols(
            ("order_line_id", S, True),
            ("order_id", S, True),
            ("product_id", S, True),
            ("quantity", I, True),
            ("unit_price", F, True),
            ("line_total", F, True),
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "crm_loyalty_events",
        "crm",
        ("loyalty_event_id",),
        _cols(
            ("loyalty_event_id", S, True),
            ("customer_id", S, True),
            ("event_type", S, True),  # earn | redeem | expire | reversal (simulator/generator/loyalty.py)
            ("points", I, True),  # signed: earn > 0, redeem, expire and reversal < 0
            ("order_id", S),
            ("occurred_at", T, True),
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "crm_support_tickets",
        "crm",
        ("ticket_id",),
        _cols(
            ("ticket_id", S, True),
            ("customer_id", S, True),
            ("created_at", T, True),
            ("first_response_at", T),
            ("resolved_at", T),
            ("channel", S),  # email | chat | phone
            ("category", S),
            ("priority", S),
            ("status", S, True),  # open | pending | solved
            ("csat_score", I),  # 1..5, null when not rated
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "crm_nps_responses",
        "crm",
        ("response_id",),
        _cols(
            ("response_id", S, True),
            ("customer_id", S, True),
            ("responded_at", T, True),
            ("score", I, True),  # 0..10
            ("survey", S),
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "crm_consents",
        "crm",
        ("consent_event_id",),
        _cols(
            ("consent_event_id", S, True),
            ("customer_id", S, True),
            ("channel", S, True),  # email | sms | ad_personalisation | profiling (consent purpose/channel)
            ("status", S, True),  # granted | withdrawn
            ("changed_at", T, True),
            ("source", S),  # signup | preference_centre | unsubscribe_link | do_not_sell_link
            ("updated_at", T, True),
        ),
    ),
    RawTable(
        "ga4_events",
        "ga4",
        ("event_id",),
        _cols(
            ("event_id", S, True),  # GA4 exports have no event id: derived by the source adapter (see ga4_event_id)
            ("event_timestamp", I, True),  # microseconds since epoch, UTC
            ("event_name", S, True),
            ("user_pseudo_id", S, True),
            ("user_id", S),
            ("ga_session_id", I),
            ("page_location", S),
            ("traffic_source", S),
            ("traffic_medium", S),
            ("traffic_campaign", S),
            *((p.click_id, S) for p in AD_PLATFORMS),  # one click-id column per declared ad platform
            ("transaction_id", S),
        ),
    ),
    *(
        RawTable(p.raw_table, "ads", p.primary_key, tuple(Column(*c) for c in p.columns))
        for p in AD_PLATFORMS  # orchestration/extract/ad_platforms/: one declaration per platform
    ),
)

RAW_SOURCES: tuple[str, ...] = tuple(dict.fromkeys(t.source for t in RAW_TABLES))


def tables_of(source: str) -> tuple[RawTable, ...]:
    return tuple(t for t in RAW_TABLES if t.source == source)


def raw_table(name: str) -> RawTable:
    for spec in RAW_TABLES:
        if spec.name == name:
            return spec
    raise KeyError(f"no raw table {name!r}; the contract lists {', '.join(t.name for t in RAW_TABLES)}")


def ga4_event_id(user_pseudo_id: pa.Array, event_timestamp: pa.Array, event_name: pa.Array) -> pa.Array:
    """Deterministic event id for GA4 rows, which carry none: the same event always gets the same id, so a late or
    re-exported event merges onto itself. Every source adapter must use this function.

    The id is the first 20 hex digits of SHA-1 over "user_pseudo_id|event_timestamp|event_name" (the timestamp in
    decimal). Hashed inside DuckDB, vectorised: tens of millions of rows take seconds, not minutes.
    """
    keys = pa.table(
        {
            "u": user_pseudo_id.cast(pa.string()),
            "t": event_timestamp.cast(pa.string()),
            "n": event_name.cast(pa.string()),
        }
    )
    with connect_scratch() as con:
        con.register("keys", keys)
        ids = con.sql("select substr(sha1(concat_ws('|', u, t, n)), 1, 20) as id from keys").to_arrow_table()
    return ids["id"].combine_chunks().cast(pa.string())
