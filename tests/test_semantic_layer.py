"""The semantic layer (MetricFlow) against the published marts of the session's clean XS run: every mart column that
reports a metric equals the metric MetricFlow computes from its one definition, at the mart's grain (counts exactly,
money to the cent, ratios to the mart's rounding), several of them across marts (revenue from fct_orders against the
customer, RFM, CLV and cohort marts; spend against fct_ad_spend_daily; new customers against the marketing mart).
`c360 metrics` answers the same from the command line, read-only."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from c360_cli.main import main
from orchestration.config import DBT_PROJECT_DIR, REPO_ROOT, Settings
from orchestration.semantic.manifest import ensure_semantic_manifest
from orchestration.semantic.query import SemanticLayer
from orchestration.warehouse import connect_published
from tests.conftest import Baseline, built_once, copy_baseline, make_workspace

#: Every metric issue 16 names, by the name the semantic layer gives it.
REQUIRED_METRICS = {
    "revenue", "orders", "average_order_value", "customers", "active_customers", "new_customers", "repeat_rate",
    "retention_rate", "churn_rate", "historical_clv", "predicted_clv", "rfm_segment_customers", "loyalty_liability",
    "loyalty_redemption_rate", "spend", "impressions", "clicks", "click_through_rate", "cost_per_click",
    "cost_per_mille", "cost_per_acquisition", "roas", "customer_acquisition_cost", "clv_to_cac", "csat",
    "first_response_time",
}  # fmt: skip

CENT = 0.005  # a money column rounded to cents
RATIO = 0.00005  # a ratio column rounded to 4 decimals


def semantic_yaml_metrics() -> dict[str, dict]:
    metrics = {}
    for path in sorted((DBT_PROJECT_DIR / "models" / "marts").glob("*/_*__semantic.yml")):
        for metric in yaml.safe_load(path.read_text()).get("metrics", []):
            metrics[metric["name"]] = metric
    return metrics


def test_every_required_metric_is_defined_once_and_in_the_readme() -> None:
    """Cheap (no warehouse): the issue's metrics exist, each described, and README's Metrics section lists them."""
    metrics = semantic_yaml_metrics()
    assert REQUIRED_METRICS - set(metrics) == set()
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    assert [name for name in sorted(REQUIRED_METRICS) if f"`{name}`" not in section] == []
    assert [name for name, metric in metrics.items() if not metric.get("description") and not metric.get("label")] == []


# --- against the published marts ---------------------------------------------------------------------------------


def _copy_with_semantic_manifest(root: Path, baseline: Baseline) -> None:
    """A copy of the baseline's data dir, and the project's semantic parse made fresh while other workers wait."""
    with copy_baseline(baseline, root / "data"):
        ensure_semantic_manifest()


@pytest.fixture(scope="module")
def published(xs_baseline: Baseline, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The copy, made once per session whichever worker first needs it (`built_once`); the tests only read it."""
    root = built_once(
        tmp_path_factory, "semantic_layer", lambda folder: _copy_with_semantic_manifest(folder, xs_baseline)
    )
    with make_workspace(root / "data", None) as ws:
        yield ws.settings


@pytest.fixture(scope="module")
def layer(published: Settings) -> SemanticLayer:
    return SemanticLayer(published)


@pytest.fixture(scope="module")
def as_of(published: Settings) -> date:
    return sql(published, "select max(as_of_date) from mart_rfm")[0][0]


def sql(settings: Settings, query: str) -> list[tuple]:
    with connect_published(settings.published_path) as con:
        return con.execute(query).fetchall()


def by_key(
    layer: SemanticLayer, metrics: Sequence[str], group_by: Sequence[str], where: Sequence[str] = ()
) -> dict[tuple, dict[str, float | None]]:
    """{group-by values: {metric: value}} from MetricFlow."""
    result = layer.query(metrics, group_by=group_by, where=where)
    keys = len(group_by) if group_by else 0
    out = {}
    for row in result.rows:
        key = tuple(_plain(value) for value in row[:keys])
        out[key] = {name: _number(value) for name, value in zip(result.columns[keys:], row[keys:], strict=True)}
    return out


def _plain(value: object) -> object:
    return value.date() if isinstance(value, datetime) else value


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def mismatches(
    expected: dict[tuple, float | int | Decimal | None],
    actual: dict[tuple, dict[str, float | None]],
    metric: str,
    tolerance: float,
    missing_as: float | None = None,
) -> list[tuple]:
    """Rows where the mart column and the metric differ by more than the column's rounding."""
    wrong = []
    for key, mart_value in expected.items():
        metric_value = actual.get(key, {}).get(metric, missing_as)
        if mart_value is None or metric_value is None:
            if not (mart_value is None and metric_value is None):
                wrong.append((key, mart_value, metric_value))
        elif abs(float(mart_value) - metric_value) > tolerance + 1e-9:
            wrong.append((key, mart_value, metric_value))
    return wrong


def to_date(as_of: date) -> str:
    return f"{{{{ TimeDimension('metric_time', 'day') }}}} <= '{as_of.isoformat()}'"


@pytest.mark.slow
def test_order_metrics_equal_every_customer_mart(layer: SemanticLayer, published: Settings, as_of: date) -> None:
    """revenue / orders / AOV from fct_orders per customer = mart_customer_360, mart_rfm and mart_clv."""
    metrics = by_key(layer, ["revenue", "orders", "average_order_value"], ["customer"], [to_date(as_of)])
    c360 = sql(published, "select customer_key, net_revenue_reporting, completed_order_count, "
               "average_order_value_reporting from mart_customer_360")  # fmt: skip
    assert len(c360) == sql(published, "select count(*) from dim_customer")[0][0] and len(metrics) > 600
    assert mismatches({(k,): rev for k, rev, _, _ in c360}, metrics, "revenue", CENT, missing_as=0) == []
    assert mismatches({(k,): n for k, _, n, _ in c360}, metrics, "orders", 0, missing_as=0) == []
    assert mismatches({(k,): aov for k, _, _, aov in c360}, metrics, "average_order_value", CENT) == []
    rfm = sql(published, "select customer_key, monetary_reporting, frequency from mart_rfm")
    assert mismatches({(k,): m for k, m, _ in rfm}, metrics, "revenue", CENT) == []
    assert mismatches({(k,): f for k, _, f in rfm}, metrics, "orders", 0) == []
    clv = sql(published, "select customer_key, historical_net_revenue_reporting, historical_order_count from mart_clv")
    assert mismatches({(k,): m for k, m, _ in clv}, metrics, "revenue", CENT) == []
    assert mismatches({(k,): f for k, _, f in clv}, metrics, "orders", 0) == []
    total = by_key(layer, ["revenue"], [], [to_date(as_of)])[()]["revenue"]
    assert total == pytest.approx(
        float(sql(published, "select sum(net_revenue_reporting) from mart_customer_360")[0][0])
    )


@pytest.mark.slow
def test_cohort_metrics_equal_mart_cohort_retention(layer: SemanticLayer, published: Settings, as_of: date) -> None:
    """Active customers and revenue from fct_orders by order month x the customer's cohort (mart_clv) = the cohort
    mart's cells; retention and churn rate = the mart's rate; new customers per month = cohort sizes."""
    cells = sql(published, "select cohort_month, activity_month, active_customers, revenue_reporting, "
                "retention_rate, cohort_size, months_since_first_order from mart_cohort_retention")  # fmt: skip
    orders = by_key(
        layer,
        ["active_customers", "revenue"],
        ["metric_time__month", "customer__cohort_month__month"],
        [to_date(as_of)],
    )
    active = {(activity, cohort): n for cohort, activity, n, *_ in cells}
    revenue = {(activity, cohort): r for cohort, activity, _, r, *_ in cells}
    assert sum(active.values()) > 0
    assert mismatches(active, orders, "active_customers", 0, missing_as=0) == []
    assert mismatches(revenue, orders, "revenue", CENT, missing_as=0) == []
    rates = by_key(layer, ["retention_rate", "churn_rate"], ["cohort_month_offset"])
    keyed = {(f"{c:%Y-%m}+{k}",): (rate, size) for c, _, _, _, rate, size, k in cells}
    assert mismatches({key: rate for key, (rate, _) in keyed.items()}, rates, "retention_rate", RATIO) == []
    churn = {key: 1 - float(rate) for key, (rate, _) in keyed.items()}
    assert mismatches(churn, rates, "churn_rate", RATIO) == []
    new = by_key(layer, ["new_customers"], ["metric_time__month"])
    sizes = {(c,): size for c, _, _, _, _, size, k in cells if k == 0}
    assert mismatches(sizes, new, "new_customers", 0) == []


@pytest.mark.slow
def test_rfm_segment_counts_equal_the_rfm_marts(layer: SemanticLayer, published: Settings) -> None:
    counts = by_key(layer, ["rfm_segment_customers"], ["customer__rfm_segment"])
    assert None not in {key[0] for key in counts}  # customers without a score are filtered out
    rfm = dict(sql(published, "select rfm_segment, count(*) from mart_rfm group by 1"))
    summary = dict(
        sql(published, "select dimension_value, customers from mart_clv_summary where dimension = 'rfm_segment'")
    )
    moved_to = dict(sql(published, "select to_segment, sum(customers) from mart_rfm_transitions group by 1"))
    assert len(rfm) == 11
    for column in (rfm, summary, moved_to):
        assert mismatches({(k,): v for k, v in column.items()}, counts, "rfm_segment_customers", 0) == []
    assert set(counts) == {(k,) for k in rfm}


@pytest.mark.slow
def test_clv_and_cac_metrics_equal_mart_channel_clv_cac(layer: SemanticLayer, published: Settings) -> None:
    """Per acquisition channel: customers acquired, average margin to date, average 12-month CLV, spend, CAC and
    CLV:CAC; MetricFlow joins mart_clv (value) to mart_marketing_performance (spend, new customers) on `channel`."""
    names = ["new_customers", "historical_clv", "predicted_clv", "spend", "customer_acquisition_cost", "clv_to_cac"]
    metrics = by_key(layer, names, ["channel"])
    rows = sql(published, "select acquisition_channel, customers_acquired, average_gross_margin_to_date_reporting, "
               "average_predicted_clv_12_months_reporting, spend_reporting, customer_acquisition_cost_reporting, "
               "clv_to_cac_ratio from mart_channel_clv_cac")  # fmt: skip
    assert len(rows) >= 6 and sum(1 for row in rows if row[5] is not None) >= 3  # paid channels have a CAC
    for index, (name, tolerance) in enumerate(zip(names, [0, CENT, CENT, CENT, CENT, RATIO], strict=True), start=1):
        assert mismatches({(row[0],): row[index] for row in rows}, metrics, name, tolerance, missing_as=0) == [], name
    segments = by_key(layer, ["predicted_clv_total", "predicted_clv", "average_churn_risk"], ["customer__rfm_segment"])
    summary = sql(published, "select dimension_value, predicted_clv_12_months_reporting, "
                  "average_predicted_clv_12_months_reporting, average_probability_alive from mart_clv_summary "
                  "where dimension = 'rfm_segment'")  # fmt: skip
    assert mismatches({(r[0],): r[1] for r in summary}, segments, "predicted_clv_total", CENT) == []
    assert mismatches({(r[0],): r[2] for r in summary}, segments, "predicted_clv", CENT) == []
    assert mismatches({(r[0],): 1 - r[3] for r in summary}, segments, "average_churn_risk", RATIO + 1e-5) == []


@pytest.mark.slow
def test_marketing_metrics_equal_mart_marketing_performance(
    layer: SemanticLayer, published: Settings, as_of: date
) -> None:
    """Every rate column of the marketing mart, row by row, and spend/delivery against fct_ad_spend_daily."""
    columns = {
        "spend": ("spend_reporting", CENT),
        "impressions": ("impressions", 0),
        "clicks": ("clicks", 0),
        "click_through_rate": ("click_through_rate", 0.0000005),
        "cost_per_click": ("cost_per_click_reporting", CENT),
        "cost_per_mille": ("cost_per_mille_reporting", CENT),
        "cost_per_acquisition": ("cost_per_order_reporting", CENT),
        "roas": ("roas_last_touch", RATIO),
        "roas_first_touch": ("roas_first_touch", RATIO),
        "customer_acquisition_cost": ("customer_acquisition_cost_reporting", CENT),
    }
    metrics = by_key(layer, list(columns), ["marketing_performance"])
    rows = sql(published, f"select marketing_performance_key, {', '.join(c for c, _ in columns.values())} "
               "from mart_marketing_performance")  # fmt: skip
    assert len(rows) > 2000 and len(metrics) == len(rows)
    for index, (metric, (column, tolerance)) in enumerate(columns.items(), start=1):
        assert mismatches({(row[0],): row[index] for row in rows}, metrics, metric, tolerance) == [], column
    assert sum(1 for row in rows if row[8] is None) > 0  # unpaid rows: null ROAS, not inf
    daily = by_key(
        layer, ["spend", "impressions", "clicks"], ["metric_time__day", "marketing_performance__ad_platform"]
    )
    facts = sql(published, "select spend_date, ad_platform, sum(spend_reporting), sum(impressions), sum(clicks) "
                f"from fct_ad_spend_daily where spend_date <= '{as_of}' group by all")  # fmt: skip
    assert len(facts) > 100
    for index, metric in enumerate(["spend", "impressions", "clicks"], start=2):
        assert mismatches({(r[0], r[1]): r[index] for r in facts}, daily, metric, CENT if index == 2 else 0) == []
    assert {key for key, values in daily.items() if values["spend"]} == {(r[0], r[1]) for r in facts if r[2]}
    monthly = by_key(layer, ["new_customers", "customers_acquired"], ["metric_time__month"])
    assert [k for k, v in monthly.items() if v["new_customers"] != (v["customers_acquired"] or 0)] == []


@pytest.mark.slow
def test_loyalty_metrics_equal_the_loyalty_marts(layer: SemanticLayer, published: Settings) -> None:
    members = by_key(layer, ["loyalty_liability"], ["customer"])
    liability = sql(published, "select customer_key, points_liability_reporting from mart_loyalty")
    assert len(liability) > 500
    assert mismatches({(k,): v for k, v in liability}, members, "loyalty_liability", CENT) == []
    months = by_key(
        layer,
        ["loyalty_redemption_rate", "loyalty_retention_rate", "loyalty_repeat_purchase_rate"],
        ["loyalty_tier_month"],
    )
    rows = sql(published, "select strftime(month_start, '%Y-%m') || ' ' || loyalty_tier, redemption_rate, "
               "retention_rate, repeat_purchase_rate from mart_loyalty_monthly")  # fmt: skip
    assert sum(1 for row in rows if row[1] is not None) >= 5  # XS: months with points available (rates are 0)
    for index, metric in enumerate(months[next(iter(months))], start=1):
        assert mismatches({(row[0],): row[index] for row in rows}, months, metric, RATIO) == [], metric


@pytest.mark.slow
def test_service_and_customer_count_metrics(layer: SemanticLayer, published: Settings, as_of: date) -> None:
    per_customer = by_key(layer, ["csat", "first_response_time"], ["customer"], [to_date(as_of)])
    rows = sql(published, "select customer_key, average_csat_score, median_first_response_hours from "
               "mart_customer_360 where support_ticket_count > 0")  # fmt: skip
    ticket_customers = sql(published, f"select count(distinct customer_key) from fct_support_tickets "
                           f"where created_date <= '{as_of}'")[0][0]  # fmt: skip
    assert len(rows) == ticket_customers > 50
    assert mismatches({(r[0],): r[1] for r in rows}, per_customer, "csat", CENT) == []
    assert mismatches({(r[0],): r[2] for r in rows}, per_customer, "first_response_time", CENT) == []
    totals = by_key(layer, ["customers", "customers_with_orders", "repeat_rate"], [])[()]
    customers, buyers, repeaters = sql(
        published, "select (select count(*) from dim_customer), count(*), count(*) filter (where frequency >= 2) "
        "from mart_rfm"
    )[0]  # fmt: skip
    assert (totals["customers"], totals["customers_with_orders"]) == (customers, buyers)
    assert totals["repeat_rate"] == pytest.approx(repeaters / buyers)


@pytest.mark.slow
def test_c360_metrics_prints_the_table_read_only(published: Settings, layer: SemanticLayer) -> None:
    """The CLI answers while a BI tool holds the file open read-only (a read-write open would fail on its lock)."""
    expected = by_key(layer, ["revenue"], ["metric_time__month", "customer__rfm_segment"])
    env = {**os.environ, "C360_DATA_DIR": str(published.data_dir)}
    command = [sys.executable, "-m", "c360_cli.main", "metrics", "revenue", "--by", "metric_time__month",
               "--by", "customer__rfm_segment"]  # fmt: skip
    with connect_published(published.published_path):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["metric_time__month", "customer__rfm_segment", "revenue"]
    assert lines[-1] == f"({len(expected)} rows)"
    champions = [line for line in lines if "Champions" in line]
    assert champions and all(
        float(line.split()[-1].replace(",", ""))
        == pytest.approx(expected[(date.fromisoformat(line.split()[0]), "Champions")]["revenue"], abs=CENT)
        for line in champions
    )


def test_the_semantic_parse_is_the_projects_and_a_new_data_dir_queries_without_parsing(
    published: Settings, layer: SemanticLayer, tmp_path: Path
) -> None:
    """Parsed once for the project under the published target (relations `marts.main.<model>`, the published file's
    in every data dir), not per data dir: another data dir's first query reuses it and writes nothing for it."""
    manifest = ensure_semantic_manifest()
    assert manifest == DBT_PROJECT_DIR / "target" / "published" / "target" / "semantic_manifest.json"
    node = json.loads((manifest.parent / "manifest.json").read_text())["nodes"]["model.c360.fct_orders"]
    assert (node["database"], node["schema"]) == ("marts", "main")
    parsed_at = manifest.stat().st_mtime_ns
    other = Settings.from_env({**os.environ, "C360_DATA_DIR": str(tmp_path / "other")})
    other.published_path.parent.mkdir(parents=True)
    shutil.copyfile(published.published_path, other.published_path)
    assert by_key(SemanticLayer(other), ["orders"], []) == by_key(layer, ["orders"], [])
    assert manifest.stat().st_mtime_ns == parsed_at
    assert [p.relative_to(other.data_dir).as_posix() for p in other.data_dir.rglob("*")] == [
        "published",
        "published/marts.duckdb",
    ]


@pytest.mark.slow
def test_c360_metrics_unknown_names_fail_in_one_line(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("C360_DATA_DIR", str(published.data_dir))
    assert main(["metrics", "revenu"]) == 2
    assert main(["metrics", "revenue", "--by", "customer__rfm_segmnt"]) == 2
    first, second = capsys.readouterr().err.splitlines()
    assert first.startswith("c360 metrics: The given input does not exactly match any known metrics: 'revenu' (did ")
    assert "(did you mean: revenue, " in first
    assert "'customer__rfm_segmnt' (did you mean: customer__rfm_segment, " in second
