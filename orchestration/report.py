"""The short human summary printed after a run: rows per layer, gate results, top segments, CLV by channel, ROAS by
platform, where BI reads."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.capabilities import capabilities_off as off
from orchestration.config import Settings
from orchestration.extract.dlt_sources import delivery_problems as problems
from orchestration.run_outcome import RunOutcome
from orchestration.warehouse import connect_file, connect_published

LAYERS = ("raw", "staging", "intermediate", "marts")


def rows_per_layer(warehouse_path: Path) -> dict[str, dict[str, int]]:
    with connect_file(warehouse_path, read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'staging', 'intermediate', 'marts') "
            "and table_name not like '\\_dlt%' escape '\\' "
            "order by 1, 2"
        ).fetchall()
        return {
            layer: {
                t: con.execute(f'select count(*) from "{s}"."{t}"').fetchall()[0][0] for s, t in tables if s == layer
            }
            for layer in LAYERS
        }


def top_segments(published_path: Path, limit: int = 5) -> list[tuple[str, int, float]]:
    with connect_published(published_path) as con:
        return con.execute(
            "select rfm_segment, count(*) as customers, round(sum(monetary_reporting), 2) as revenue "
            "from mart_rfm group by 1 order by customers desc, rfm_segment limit ?",
            [limit],
        ).fetchall()


def clv_by_channel(published_path: Path) -> list[tuple[str, int, float, float, float | None]]:
    """Per acquisition channel (first web touch): customers, avg margin to date, avg 12-month CLV, CLV:CAC."""
    with connect_published(published_path) as con:
        return con.execute(
            "select acquisition_channel, customers_acquired, average_gross_margin_to_date_reporting, "
            "average_predicted_clv_12_months_reporting, clv_to_cac_ratio "
            "from mart_channel_clv_cac order by average_predicted_clv_12_months_reporting desc, acquisition_channel"
        ).fetchall()


def audience_sizes(published_path: Path) -> list[tuple[str, str, int]]:
    """Members per activation audience and channel (mart_audience_sizes): what the run exported."""
    with connect_published(published_path) as con:
        return con.execute(
            "select audience, audience_channel, members from mart_audience_sizes order by audience, audience_channel"
        ).fetchall()


def spend_model_excluded(warehouse_path: Path) -> int | None:
    """Repeat customers the CLV asset left out of the Gamma-Gamma spend fit (average repeat spend <= 0)."""
    with connect_file(warehouse_path, read_only=True) as con:
        try:
            return con.execute(
                "select count(*) filter (where spend_model_excluded) from customer_models.clv_predictions"
            ).fetchone()[0]
        except duckdb.Error:  # no CLV fit in this warehouse yet
            return None


def roas_by_platform(published_path: Path) -> list[tuple[str, float, float, float | None]]:
    """Per ad platform: spend, last-touch attributed revenue, ROAS (revenue / spend) over the whole mart."""
    with connect_published(published_path) as con:
        return con.execute(
            "select ad_platform, sum(spend_reporting), sum(last_touch_revenue_reporting), "
            "round(sum(last_touch_revenue_reporting) / nullif(sum(spend_reporting), 0), 2) "
            "from mart_marketing_performance where is_paid group by 1 order by 1"
        ).fetchall()


def capabilities_off(warehouse_path: Path) -> list[str]:
    """One line per capability that is off, from what raw holds (rules: orchestration/capabilities.py)."""
    with connect_file(warehouse_path, read_only=True) as con:
        return [c.off for c in off(con)]


def delivery_problems(settings: Settings) -> list[str]:
    return problems(settings)


def pseudonym_key_line(settings: Settings) -> str:
    """Which key the published pseudonyms are under, never the key itself: a demo run must say its key is public."""
    if settings.pii_key_is_throwaway:
        return (
            "pseudonyms: keyed with the public THROWAWAY demo key (no C360_PII_KEY set): fine for demo data, "
            "never for real customers (C360_ENV=prod refuses to run without a key)"
        )
    return "pseudonyms: HMAC-SHA256 under the secret key from C360_PII_KEY / C360_PII_KEY_FILE"


def render(settings: Settings, outcome: RunOutcome) -> str:
    lines = [f"run {outcome.run_id}: {'SUCCESS' if outcome.success else 'FAILED'}", pseudonym_key_line(settings)]
    problems = delivery_problems(settings) if any(s.startswith("extract") for s in outcome.failed_steps) else []
    if problems:
        lines.append(f"the delivery cannot load ({len(problems)} problem(s); nothing was loaded), fix and rerun:")
        lines += [f"  - {p}" for p in problems]
    if settings.warehouse_path.exists():
        lines.append("rows per layer (build warehouse):")
        for layer, tables in rows_per_layer(settings.warehouse_path).items():
            detail = ", ".join(f"{t}={n:,}" for t, n in tables.items()) or "(views / none)"
            lines.append(f"  {layer:<12} {sum(tables.values()):>10,}  {detail}")
        off = capabilities_off(settings.warehouse_path) if not problems else []
        if off:
            lines.append("capabilities off (optional data not delivered; their outputs are empty by design):")
            lines += [f"  {line}" for line in off]
    passed = sum(c.passed for c in outcome.checks)
    lines.append(f"gates: {passed}/{len(outcome.checks)} checks passed")
    for check in outcome.checks:
        if not check.passed:
            lines.append(f"  FAILED {check.asset} {check.check}: {check.detail[:400]}")
    if outcome.failed_steps:
        lines.append(f"failed steps: {', '.join(outcome.failed_steps)}")
    if outcome.published:
        lines.append("activation audiences (consented members exported per channel):")
        for audience, channel, members in audience_sizes(settings.published_path):
            lines.append(f"  {audience:<28} {channel:<14} {members:>8,}")
        exported = settings.activation_dir / outcome.run_id
        lines.append(f"audience files: {exported} (owner only)" if exported.is_dir() else "audience files: NOT written")
        lines.append("top RFM segments (customers, revenue):")
        for segment, customers, revenue in top_segments(settings.published_path):
            lines.append(f"  {segment:<20} {customers:>8,} {revenue:>14,.2f} {settings.reporting_currency}")
        lines.append(
            "CLV by acquisition channel (first web touch; customers, avg gross margin to date, avg 12-month CLV, "
            "CLV:CAC):"
        )
        currency = settings.reporting_currency
        for channel, customers, margin, predicted, ratio in clv_by_channel(settings.published_path):
            shown = "-" if ratio is None else f"{ratio:.2f}"
            margin_shown = "unknown" if margin is None else f"{margin:,.2f}"  # no known product cost
            lines.append(
                f"  {channel:<28} {customers:>8,} {margin_shown:>12} {predicted:>12,.2f} {currency} {shown:>8}"
            )
        excluded = spend_model_excluded(settings.warehouse_path)
        if excluded:
            lines.append(
                f"CLV: {excluded:,} repeat customers left out of the spend model (average repeat spend <= 0); their "
                "expected order value is the population mean"
            )
        lines.append("ROAS by ad platform (spend, last-touch revenue, ROAS):")
        platforms = roas_by_platform(settings.published_path)
        for platform, spend, revenue, roas in platforms:
            shown = "-" if roas is None else f"{roas:.2f}"
            lines.append(f"  {platform:<28} {spend:>14,.2f} {revenue:>14,.2f} {currency} {shown:>8}")
        if not platforms:
            lines.append("  (none: no ad platform delivered)")
        lines.append(f"published marts: {settings.published_path} (open read-only)")
        for target in outcome.stale_serving_targets:
            lines.append(f"{target} serving STALE: it keeps the previous run's marts until a run publishes there again")
    elif settings.published_path.exists():
        lines.append(f"NOT published; BI keeps reading the previous file: {settings.published_path}")
    else:
        lines.append(f"NOT published; nothing was published before either: BI has no file at {settings.published_path}")
    return "\n".join(lines)
