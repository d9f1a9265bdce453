"""Shared builders so every suite reads as a list of rules, each saying why it exists.

Two kinds of suite per dataset (see `expectations/__init__.py`): row rules run on every chunk of the batch streamed
from DuckDB; table rules run on one row of metrics computed inside DuckDB (`TABLE_METRICS`), so volume, duplicate
keys, freshness and reconciliations never need the whole table in memory.

Runtime values are GX suite parameters, filled by the gate for each run (see orchestration/quality/gate.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Suite parameter names the gate fills at run time.
NOW = "now"  # wall-clock UTC timestamp of the check
FRESH_AFTER = "fresh_after"  # as-of date minus the suite's FRESHNESS_DAYS, as a UTC timestamp
VOLUME_MIN = "volume_min"  # baseline median / VOLUME_BAND (0 without history)
VOLUME_MAX = "volume_max"  # baseline median * VOLUME_BAND
MIN_ROWS = "min_rows"  # 1 for a required export and for marts, else 0 (a delta, an optional table, an off mart)
#: Regex of the run's convertible currencies (currency_pattern of GateContext.currencies): the reporting currency
#: and those with a rate in the FX reference rates (the ECB's, plus landing/fx_rates*.csv), one source of truth with
#: raw.fx_rates and the extract's quarantine. Whether a rate exists on a row's date is judged by the quarantine.
CURRENCY_PATTERN = "currency_pattern"
#: Metric the gate adds for suites declaring VOLUME_DAY: rows of the batch on its newest day (a delta: see
#: volume_within_recent_band).
NEWEST_DAY_ROWS = "newest_day_rows"
#: `meta` marking a table rule judged on the whole table, not the batch, when the batch is a delta (see `fresh`).
WHOLE_TABLE_WHEN_DELTA = {"whole_table_when_delta": True}

ID_PATTERN = r"^\S+$"  # an identifier: non-empty, no whitespace
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
EMAIL_PATTERN_PADDED = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"  # the same, surrounding whitespace allowed

# GX expectation types the suites use (the `type` of a serialised expectation).
NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
MATCH_REGEX = "expect_column_values_to_match_regex"
COLUMNS_MATCH_SET = "expect_table_columns_to_match_set"


@dataclass(frozen=True)
class Expectation:
    """One GX expectation in GX's own serialised form (an entry of a suite's JSON: type, kwargs, meta, description).
    The gates evaluate it inside DuckDB (orchestration/quality/sql_validation.py) without importing GX, which costs
    7-13 s per process; `to_gx()` builds GX's object, which validates the kwargs (tests build every suite with it and
    hold the DuckDB evaluation to GX's own on the same frames)."""

    type: str
    kwargs: dict[str, Any]
    description: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    def to_gx(self) -> Any:
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        configuration = ExpectationConfiguration(
            type=self.type, kwargs=self.kwargs, meta=self.meta or None, description=self.description
        )
        return configuration.to_domain_obj()


@dataclass(frozen=True)
class Suite:
    """A GX expectation suite's name and expectations (GX's own: orchestration.quality.gx_validation.gx_suite)."""

    name: str
    expectations: tuple[Expectation, ...]


def _expect(kind: str, why: str, meta: dict[str, Any] | None = None, **kwargs: Any) -> Expectation:
    """As GX serialises it: unset (None) arguments are left out (and so is a default `mostly`, by the callers)."""
    return Expectation(kind, {k: v for k, v in kwargs.items() if v is not None}, why, dict(meta or {}))


def _param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def currency_pattern(currencies: list[str] | tuple[str, ...]) -> str:
    """Any case and surrounding spaces are fine (staging normalises them); nothing else matches."""
    return rf"^\s*(?i:{'|'.join(currencies)})\s*$"


# Row rules -----------------------------------------------------------------------------------------------------------


def columns_present(columns: list[str]) -> Expectation:
    return _expect(
        COLUMNS_MATCH_SET,
        "The models rely on these columns; an export without one is unusable (extra columns are fine).",
        column_set=columns,
        exact_match=False,
    )


def not_null(column: str, why: str) -> Expectation:
    return _expect(NOT_NULL, why, column=column)


def well_formed_id(column: str) -> Expectation:
    return _expect(
        MATCH_REGEX, f"{column} is a key: blank or whitespace ids cannot be joined.", column=column, regex=ID_PATTERN
    )


def matches(column: str, regex: str | dict[str, str], why: str, mostly: float = 1.0) -> Expectation:
    return _expect(MATCH_REGEX, why, column=column, regex=regex, mostly=None if mostly == 1.0 else mostly)


def between(column: str, why: str, min_value: float | None = None, max_value: float | None = None) -> Expectation:
    return _expect(BETWEEN, why, column=column, min_value=min_value, max_value=max_value)


def in_set(column: str, values: list[Any], why: str) -> Expectation:
    return _expect(IN_SET, why, column=column, value_set=values)


def convertible_currency(column: str) -> Expectation:
    """Any case and surrounding spaces are fine (staging normalises them); a code without an FX rate is not."""
    return matches(
        column,
        _param(CURRENCY_PATTERN),
        "Money is reported in one currency; a code without an FX rate (ECB reference rates or landing/fx_rates*.csv) "
        "cannot be converted.",
    )


# Table rules (on the one-row metrics frame) --------------------------------------------------------------------------


def metric_between(
    metric: str, why: str, min_value: Any = None, max_value: Any = None, meta: dict[str, Any] | None = None
) -> Expectation:
    return _expect(BETWEEN, why, meta, column=metric, min_value=min_value, max_value=max_value)


def volume_within_recent_band(metric: str = "row_count") -> Expectation:
    """Snapshot tables (no VOLUME_DAY): the delivery's rows against the median of recent published deliveries.
    Daily tables (VOLUME_DAY): the rows of the batch's newest day against the median rows per day of the published
    data's last week, so a full initial load and a one-day increment are judged on the same per-day scale (a
    daily increment also carries late rows and restatements of earlier days; those are not new volume).

    A delta (rows changed since a database cursor, e.g. C360_SOURCE=postgres) has no delivery size to compare: its
    row count says how much changed. So for a delta, snapshot tables get no band, and daily tables are judged on the
    newest complete day the delta touched (before the day of the read, which is still running), counted in the whole
    table, since a day's rows arrive spread over several reads; a delta touching no complete day is not judged."""
    why = (
        "A delivery far smaller or larger than recent ones signals a broken export or a duplicated backfill."
        if metric == "row_count"
        else "A day far below or above recent days' volume signals a broken export or a duplicated backfill; "
        "compared per day so a full initial load and a daily increment share one baseline."
    )
    return metric_between(metric, why, min_value=_param(VOLUME_MIN), max_value=_param(VOLUME_MAX))


def not_empty() -> Expectation:
    """Judged against MIN_ROWS: an export of a required table (C360_REQUIRED_TABLES) and every mart must have rows;
    a delta read from a database cursor may be empty, because a table nothing changed in legitimately brings no rows;
    so may an optional table's export (its volume band judges it against history) and a mart whose capability is off
    (orchestration/capabilities.py: its source was not delivered)."""
    return metric_between(
        "row_count",
        "An empty export means the extract read nothing (a delta since the last cursor, an optional table's export "
        "and a mart whose source was not delivered may be empty).",
        min_value=_param(MIN_ROWS),
    )


def no_duplicate_keys(metric: str) -> Expectation:
    return metric_between(metric, "One row per key: duplicates would double-count downstream.", max_value=0)


def not_in_future(metric: str) -> Expectation:
    return metric_between(
        metric,
        "Timestamps after now are clock or timezone errors (local time stored as UTC).",
        max_value=_param(NOW),
    )


def fresh(metric: str) -> Expectation:
    """On a delta the metric is computed over the whole table after the merge: an empty delta has no newest
    record, but the table's newest record still tells whether the source stopped."""
    return metric_between(
        metric,
        "The newest record must be recent relative to the run's as-of date, or the source stopped delivering "
        "(on a delta: the newest record in the whole table).",
        min_value=_param(FRESH_AFTER),
        meta=WHOLE_TABLE_WHEN_DELTA,
    )


def reconciles(metric: str, tolerance: float, why: str) -> Expectation:
    return metric_between(metric, why, min_value=-tolerance, max_value=tolerance)


def no_rows_collapsed_by_key() -> Expectation:
    return metric_between(
        "rows_collapsed_by_key",
        "Raw tables merge on their key: two rows with one key in a delivery would be folded into one, silently.",
        max_value=0,
    )


#: Largest share of a load's extracted rows that may be quarantined before the load blocks publishing. Single bad
#: rows are quarantined and the rest loads; a delivery where more than 1% is unusable is a broken export, not dirt.
MAX_QUARANTINE_RATE = 0.01


def quarantine_rate_within_threshold() -> Expectation:
    """Added to every raw suite by the gate (orchestration/quality/gate.py): the metric comes from the ledger."""
    return metric_between(
        "quarantine_rate",
        f"At most {MAX_QUARANTINE_RATE:.0%} of a load's rows may be quarantined: more means a broken delivery.",
        max_value=MAX_QUARANTINE_RATE,
    )


def ad_report_table_rules() -> list[Expectation]:
    """Table rules shared by every ad platform's daily campaign report (their TABLE_METRICS use these names)."""
    return [
        not_empty(),
        no_rows_collapsed_by_key(),
        volume_within_recent_band(NEWEST_DAY_ROWS),
        no_duplicate_keys("duplicate_campaign_days"),
        metric_between(
            "rows_with_more_clicks_than_impressions", "A click needs an impression: CTR > 100% is an error.", 0, 0
        ),
        not_in_future("max_spend_day"),
        fresh("max_spend_day"),
    ]
