"""What an ad platform is to the warehouse: one declaration per platform, read by everything that handles ad data.

A platform module in this package (`google_ads.py`, `meta_ads.py`, ...) defines `PLATFORM = AdPlatform(...)`; the
package discovers them (see `__init__.py`). From the declaration come:

- extraction: the raw contract table (orchestration/sources/registry.py), the vendor export mapping of the files
  source (orchestration/sources/files/mappings.py; the writer and the README's file reference follow it), and the
  GA4 raw contract's click-id column (one per platform), so the synthetic, files and postgres sources all carry it;
- its raw Great Expectations suite (expectations/raw_ad_reports.py: one generic ad-report suite per platform);
- dbt, as data: `python -m orchestration.extract.ad_platforms.dbt_vars --write` writes the dbt-facing part of every
  declaration into `vars: ad_platforms` of dbt_project.yml (a test fails when that block is stale). The staging
  union, GA4 staging, sessionisation, the identity graph, attribution (`session_ad_platform`) and dim_channel loop
  over that var. Each platform keeps its own hand-written staging model `stg_<name>__campaign_stats` mapping its
  report to the common vocabulary (the union reads them by that name).

This module imports nothing of the warehouse, so the raw contract and the simulator can both import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

#: Arrow types of the raw contract's columns, short so a declaration's column table stays readable.
TEXT, INT, FLOAT, DATE = pa.string(), pa.int64(), pa.float64(), pa.date32()

#: One raw contract column: (name, Arrow type, required). A null in a required column quarantines the row.
ContractColumn = tuple[str, pa.DataType, bool]
#: One vendor export column: (vendor header, contract column or None = known but not loaded, cell kind). A header
#: may hold `{currency}` (the account currency, e.g. Meta's "Amount spent (EUR)"). Kinds: orchestration/sources/
#: files/cells.py KINDS.
ExportColumn = tuple[str, str | None, str]

SPEND_UNITS = ("units", "micros")
#: The columns every report has, whatever the platform calls them (AdPlatform fields naming a contract column).
COLUMN_ROLES = (
    "date_column",
    "account_column",
    "campaign_column",
    "campaign_name_column",
    "currency_column",
    "timezone_column",
    "spend_column",
    "impressions_column",
    "clicks_column",
    "conversions_column",
)  # currency units, or millionths of one (Google Ads API cost_micros)


@dataclass(frozen=True)
class ExportFormat:
    """The platform's vendor report as a user downloads it (CSV with a header row)."""

    folder: str  # landing/files/<folder>/
    stem: str  # files `<stem>*.csv`
    vendor: str  # what the shape imitates, for the docs
    columns: tuple[ExportColumn, ...]
    #: Values of the known-but-not-loaded columns, derived from a contract row (the simulator's writer uses them).
    echoes: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = ()


@dataclass(frozen=True)
class AdPlatform:
    name: str  # the `ad_platform` value everywhere; dbt source and staging folder `<name>`
    label: str  # human name
    raw_table: str  # raw.<raw_table>
    columns: tuple[ContractColumn, ...]  # the raw contract, in raw column order
    date_column: str  # the report's day, in the ad account's time zone
    account_column: str
    campaign_column: str
    campaign_name_column: str
    currency_column: str  # the account currency (ISO code; must be in the FX seed)
    timezone_column: str  # the account time zone (IANA name)
    spend_column: str
    spend_unit: str  # one of SPEND_UNITS
    impressions_column: str
    clicks_column: str
    conversions_column: str  # the platform's own conversion count (purchases it attributes)
    export: ExportFormat
    click_id: str  # URL parameter the platform appends to landing pages (auto-tagging), a GA4 event param
    utm_sources: tuple[str, ...]  # lower-case utm_source values of its paid traffic (when the click id is missing)
    utm_mediums: tuple[str, ...]  # lower-case utm_medium values of its paid traffic
    paid_channel: tuple[str, str]  # the (source, medium) channel its spend buys, for dim_channel and CAC

    def __post_init__(self) -> None:
        names = [c[0] for c in self.columns]
        for role in COLUMN_ROLES:
            if getattr(self, role) not in names:
                raise ValueError(f"{self.name}: {role} {getattr(self, role)!r} is not a contract column")
        if self.spend_unit not in SPEND_UNITS:
            raise ValueError(f"{self.name}: spend_unit must be one of {SPEND_UNITS}, not {self.spend_unit!r}")
        unknown = {c for _, c, _ in self.export.columns if c is not None} - set(names)
        if unknown:
            raise ValueError(f"{self.name}: the export maps to unknown contract columns {sorted(unknown)}")
        if self.paid_channel[0] not in self.utm_sources or self.paid_channel[1] not in self.utm_mediums:
            raise ValueError(f"{self.name}: paid_channel {self.paid_channel} must match its utm sources and mediums")

    @property
    def primary_key(self) -> tuple[str, str]:
        return (self.date_column, self.campaign_column)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(name for name, _, required in self.columns if required)

    def dbt_var(self) -> dict[str, Any]:
        """The part dbt needs, as data (dbt cannot import Python): see dbt_vars.py."""
        return {
            "name": self.name,
            "label": self.label,
            "click_id": self.click_id,
            "utm_sources": list(self.utm_sources),
            "utm_mediums": list(self.utm_mediums),
            "paid_source": self.paid_channel[0],
            "paid_medium": self.paid_channel[1],
        }
