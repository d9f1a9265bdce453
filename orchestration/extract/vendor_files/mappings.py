"""One declarative mapping per raw table: which vendor file holds it and how each vendor column becomes a contract
column. The writer, the reader and the README's file reference are all driven by these specs, so they cannot drift.
Ad platforms' reports come from their declarations (orchestration/extract/ad_platforms/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orchestration.extract.ad_platforms import AD_PLATFORMS


@dataclass(frozen=True)
class Field:
    header: str  # vendor column (GA4: dotted path into the export's nested record; `{currency}` = account currency)
    column: str | None  # contract column; None = a known vendor column the warehouse does not load
    kind: str = "text"  # a key of cells.KINDS

    def matches(self, header: str) -> bool:
        if "{currency}" not in self.header:
            return header == self.header
        pattern = re.escape(self.header).replace(re.escape("{currency}"), "[A-Za-z]{3}")
        return re.fullmatch(pattern, header) is not None


@dataclass(frozen=True)
class FileSpec:
    table: str
    folder: str  # landing/files/<folder>/
    stem: str  # files `<stem>*.<ext>` are read in name order; the writer writes `<stem>.<ext>` (GA4: one per day)
    format: str  # "csv" | "ga4_jsonl"
    vendor: str  # what the shape imitates, for the docs
    fields: tuple[Field, ...]

    @property
    def ext(self) -> str:
        return "csv" if self.format == "csv" else "jsonl"

    @property
    def loaded(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.column)


def _f(*spec: tuple[str, str | None] | tuple[str, str | None, str]) -> tuple[Field, ...]:
    return tuple(Field(*s) for s in spec)


FILE_SPECS: tuple[FileSpec, ...] = (
    FileSpec(
        "crm_customers",
        "crm",
        "contacts",
        "csv",
        "HubSpot contacts export",
        _f(
            ("Record ID", "customer_id"),
            ("Email", "email"),
            ("First Name", "first_name"),
            ("Last Name", "last_name"),
            ("Phone Number", "phone"),
            ("Country/Region", "country_code"),
            ("Original Source", "acquisition_source"),
            ("Original Source Drill-Down 1", "acquisition_medium"),
            ("Accepts Marketing", "accepts_marketing", "yes_no"),
            ("Create Date", "signed_up_at", "timestamp"),
            ("Last Modified Date", "updated_at", "timestamp"),
        ),
    ),
    FileSpec(
        "crm_products",
        "crm",
        "products",
        "csv",
        "Shopify products export",
        _f(
            ("ID", "product_id"),
            ("Variant SKU", "sku"),
            ("Title", "product_name"),
            ("Type", "category"),
            ("Variant Price", "list_price_usd", "float"),
            ("Cost per item", "unit_cost_usd", "float"),
            ("Updated At", "updated_at", "timestamp"),
        ),
    ),
    FileSpec(
        "crm_orders",
        "crm",
        "orders",
        "csv",
        "Shopify orders export (times in the customer's local time)",
        _f(
            ("Name", None),
            ("Id", "order_id"),
            ("Customer ID", "customer_id"),
            ("Created at", "ordered_at", "local_timestamp"),
            ("Currency", "currency"),
            ("Total", "order_total", "float"),
            ("Financial Status", "status", "shopify_financial_status"),
            ("Updated at", "updated_at", "local_timestamp"),
        ),
    ),
    FileSpec(
        "crm_order_lines",
        "crm",
        "order_lines",
        "csv",
        "Shopify order line items export",
        _f(
            ("Line Item ID", "order_line_id"),
            ("Order Id", "order_id"),
            ("Product ID", "product_id"),
            ("Lineitem quantity", "quantity", "int"),
            ("Lineitem price", "unit_price", "float"),
            ("Lineitem total", "line_total", "float"),
            ("Updated at", "updated_at", "timestamp"),
        ),
    ),
    FileSpec(
        "crm_loyalty_events",
        "crm",
        "loyalty_events",
        "csv",
        "Smile.io points activity export",
        _f(
            ("Activity ID", "loyalty_event_id"),
            ("Customer ID", "customer_id"),
            ("Activity Type", "event_type"),
            ("Points Change", "points", "int"),
            ("Order ID", "order_id"),
            ("Created At", "occurred_at", "timestamp"),
            ("Updated At", "updated_at", "timestamp"),
        ),
    ),
    FileSpec(
        "crm_support_tickets",
        "crm",
        "tickets",
        "csv",
        "Zendesk tickets export",
        _f(
            ("Id", "ticket_id"),
            ("Requester external id", "customer_id"),
            ("Created at", "created_at", "timestamp"),
            ("First response at", "first_response_at", "timestamp"),
            ("Solved at", "resolved_at", "timestamp"),
            ("Via", "channel"),
            ("Ticket type", "category"),
            ("Priority", "priority"),
            ("Status", "status"),
            ("Satisfaction Score", "csat_score", "int"),
            ("Updated at", "updated_at", "timestamp"),
        ),
    ),
    FileSpec(
        "crm_nps_responses",
        "crm",
        "nps_responses",
        "csv",
        "Delighted NPS responses export",
        _f(
            ("Response ID", "response_id"),
            ("Person ID", "customer_id"),
            ("Created At", "responded_at", "timestamp"),
            ("Score", "score", "int"),
            ("Survey", "survey"),
            ("Updated At", "updated_at", "timestamp"),
        ),
    ),
    FileSpec(
        "crm_consents",
        "crm",
        "consents",
        "csv",
        "Consent management (OneTrust-like) export",
        _f(
            ("Consent ID", "consent_event_id"),
            ("Customer ID", "customer_id"),
            ("Channel", "channel"),
            ("Status", "status"),
            ("Changed At", "changed_at", "timestamp"),
            ("Source", "source"),
            ("Updated At", "updated_at", "timestamp"),
        ),
    ),
    FileSpec(
        "ga4_events",
        "ga4",
        "events_",
        "ga4_jsonl",
        "GA4 BigQuery export, one JSONL file per day",
        _f(
            ("event_date", None),
            ("event_timestamp", "event_timestamp", "int"),
            ("event_name", "event_name"),
            ("user_pseudo_id", "user_pseudo_id"),
            ("user_id", "user_id"),
            ("event_params.ga_session_id", "ga_session_id", "int"),
            ("event_params.page_location", "page_location"),
            ("event_params.source", "traffic_source"),
            ("event_params.medium", "traffic_medium"),
            ("event_params.campaign", "traffic_campaign"),
            *((f"event_params.{p.click_id}", p.click_id) for p in AD_PLATFORMS),  # click ids: ad platforms
            ("event_params.transaction_id", "transaction_id"),
            ("collected_traffic_source.manual_source", None),
            ("collected_traffic_source.manual_medium", None),
            ("collected_traffic_source.manual_campaign_name", None),
            ("collected_traffic_source.gclid", None),
            ("traffic_source.name", None),
            ("traffic_source.medium", None),
            ("traffic_source.source", None),
        ),
    ),
    *(
        FileSpec(p.raw_table, p.export.folder, p.export.stem, "csv", p.export.vendor, _f(*p.export.columns))
        for p in AD_PLATFORMS  # orchestration/extract/ad_platforms/: one declaration per platform
    ),
)

#: Contract columns no vendor file carries: derived by the reader.
DERIVED = {"ga4_events": ("event_id",)}


def file_spec(table: str) -> FileSpec:
    for spec in FILE_SPECS:
        if spec.table == table:
            return spec
    raise KeyError(f"no vendor file mapping for raw table {table!r}")


def snake_case(header: str) -> str:
    """A new vendor column's name in raw: 'Gift Card (EUR)' -> 'gift_card_eur'."""
    return re.sub(r"[^0-9a-z]+", "_", header.lower()).strip("_") or "unnamed"
