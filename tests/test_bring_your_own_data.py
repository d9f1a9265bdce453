"""Bring your own data: a retailer with only a CRM export gets a warehouse in one run. Deliveries are written here
in vendor format (tests/byod_delivery.py), never by the generator. Optional tables not delivered land as zero rows
and pass their gates as "not delivered"; zero-row files are valid; every structural problem of a delivery is reported
at once before anything loads; the as-of date defaults to the data's newest date."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from expectations import _rules, raw_crm_loyalty_events, raw_crm_orders
from models import GammaGammaFitter, calibration_summary
from models.clv import DAYS_PER_MONTH
from orchestration.alerts import handle_finished_run
from orchestration.as_of import resolve_as_of_date
from orchestration.config import Settings
from orchestration.customer_models.purchase_model import fit_purchase_model
from orchestration.extract.dlt_sources import delivery_problems
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.quarantine import split
from orchestration.extract.raw_contract import RAW_TABLES, raw_table
from orchestration.extract.vendor_files import read_files_delivery
from orchestration.extract.vendor_files.mappings import FILE_SPECS
from orchestration.publish.publisher import published_tables
from orchestration.quality.gate import GateContext, parameters, run_gate
from orchestration.report import render
from orchestration.run_outcome import RunOutcome
from tests.byod_delivery import CONTACTS_HEADER, ORDERS_HEADER, write_crm_only, write_csv
from tests.conftest import Workspace
from tests.extract_fixtures import Extract, failure_messages

CRM_ONLY_MINIMUM = ("crm_customers", "crm_orders")


def _settings(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({**os.environ, "C360_DATA_DIR": str(data_dir), "C360_SOURCE": "files", **env})


def _header_only(landing: Path) -> None:
    """Every table's file with its vendor header and no rows; GA4 as an empty day file."""
    for spec in FILE_SPECS:
        if spec.format == "csv":
            headers = [f.header.replace("{currency}", "USD") for f in spec.fields]
            write_csv(landing / spec.folder / f"{spec.stem}.{spec.ext}", headers, [])
        else:
            path = landing / spec.folder / f"{spec.stem}20260101.{spec.ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")


# Zero-row deliveries ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [t.name for t in RAW_TABLES])
def test_a_header_only_file_loads_zero_rows(tmp_path: Path, table: str, fx_coverage: FxCoverage) -> None:
    _header_only(tmp_path)
    delivery = read_files_delivery(tmp_path, raw_table(table), CRM_ONLY_MINIMUM)
    good, rejects = split(delivery, raw_table(table), fx_coverage)
    assert delivery.delivered and good.num_rows == 0 and rejects == []
    assert [c for c in good.column_names if not c.startswith("_")] == [c.name for c in raw_table(table).columns]


def test_an_empty_ga4_jsonl_is_zero_events_not_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "ga4" / "events_20190301.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n")
    delivery = read_files_delivery(tmp_path, raw_table("ga4_events"))
    assert delivery.delivered and delivery.table.num_rows == 0 and delivery.rejects == []


def test_a_delivery_of_header_only_files_extracts_with_every_table_at_zero(tmp_path: Path) -> None:
    extract = Extract(_settings(tmp_path))
    _header_only(extract.settings.landing_dir)
    result = extract.run()
    assert result.success, failure_messages(result)
    assert extract.ledger() == {t.name: (0, 0, 0) for t in RAW_TABLES}
    assert extract.query("select count(*) from audit.loads where delivery = 'absent'") == [(0,)]


# One pass reports every problem ------------------------------------------------------------------------------------


def test_every_missing_file_and_column_is_listed_in_one_error_before_anything_loads(tmp_path: Path) -> None:
    required = "crm_customers,crm_orders,crm_products,crm_order_lines"
    extract = Extract(_settings(tmp_path, C360_REQUIRED_TABLES=required))
    landing = extract.settings.landing_dir
    contacts = [h if h != "Create Date" else "Created Date" for h in CONTACTS_HEADER]
    orders = [{"Total": "Order Total"}.get(h, h) for h in ORDERS_HEADER if h != "Currency"]
    write_csv(landing / "crm" / "contacts.csv", contacts, [])
    write_csv(landing / "crm" / "orders.csv", orders, [])
    (landing / "ga4").mkdir()
    (landing / "ga4" / "events_20190301.jsonl").write_text(json.dumps({"event_timestamp": 1, "user_pseudo_id": "u"}))

    problems = delivery_problems(extract.settings)
    assert problems == [
        "crm/contacts.csv: column 'Create Date' missing (raw.crm_customers.signed_up_at); did you mean 'Created Date'?",
        f"{landing}/crm/products*.csv: no file for required raw table crm_products (Shopify products export); "
        "deliver it, or drop crm_products from C360_REQUIRED_TABLES if this deployment has no such data",
        "crm/orders.csv: column 'Currency' missing (raw.crm_orders.currency); the file has 'Name', 'Id', "
        "'Customer ID', 'Created at', 'Order Total', 'Financial Status', 'Updated at'",
        "crm/orders.csv: column 'Total' missing (raw.crm_orders.order_total); did you mean 'Order Total'?",
        f"{landing}/crm/order_lines*.csv: no file for required raw table crm_order_lines (Shopify order line items "
        "export); deliver it, or drop crm_order_lines from C360_REQUIRED_TABLES if this deployment has no such data",
        "ga4/events_20190301.jsonl: column 'event_name' missing (raw.ga4_events.event_name); the file has "
        "'event_timestamp', 'user_pseudo_id'",
    ]
    result = extract.run()
    assert not result.success
    message = failure_messages(result)
    assert "cannot load (6 problems; nothing was loaded)" in message
    assert all(p in message for p in problems)
    # No source loaded anything: only the FX reference rates (their own asset) may have reached the warehouse.
    if extract.settings.warehouse_path.exists():
        loaded = {
            t for (t,) in extract.query("select table_name from information_schema.tables where table_schema = 'raw'")
        }
        assert not loaded & {t.name for t in RAW_TABLES}, loaded


# Optional and required tables ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crm_only_extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Extract, object]:
    extract = Extract(_settings(tmp_path_factory.mktemp("crm_only")))
    delivery = write_crm_only(extract.settings.landing_dir, date(2024, 3, 1), date(2026, 6, 1), customers=60)
    result = extract.run()
    assert result.success, failure_messages(result)
    return extract, delivery


def test_absent_optional_tables_land_empty_with_the_contract_schema(crm_only_extract) -> None:
    extract, delivery = crm_only_extract
    ledger = extract.ledger()
    assert ledger["crm_orders"] == (len(delivery.orders), len(delivery.orders), 0)
    for table in RAW_TABLES:
        if table.name not in CRM_ONLY_MINIMUM:
            assert ledger[table.name] == (0, 0, 0), table.name
            columns = extract.query(
                "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
                [table.name],
            )
            assert {c.name for c in table.columns} <= {c[0] for c in columns}, table.name
    assert extract.query("select count(*) from audit.loads where delivery = 'absent'") == [(len(RAW_TABLES) - 2,)]


def _gate(extract: Extract, module, **ctx):
    as_of = resolve_as_of_date("", extract.settings)
    currencies = FxCoverage.of(extract.settings).currencies
    ctx = GateContext(now=datetime.now(UTC), as_of=as_of, currencies=currencies, **ctx)
    return run_gate(extract.settings.warehouse_path, module, ctx)


def test_an_absent_optional_table_passes_its_gate_as_not_delivered(crm_only_extract) -> None:
    extract, _ = crm_only_extract
    outcome = _gate(extract, raw_crm_loyalty_events)
    assert outcome.success, outcome.failures
    assert outcome.note.startswith("not delivered")
    assert _gate(extract, raw_crm_orders).success  # fresh relative to the data's own newest date


def test_an_absent_required_table_fails_its_gate_naming_the_file_and_the_fix(crm_only_extract) -> None:
    extract, _ = crm_only_extract
    where = f"{extract.settings.landing_dir}/crm/loyalty_events*.csv"
    outcome = _gate(
        extract, raw_crm_loyalty_events, required=("crm_loyalty_events",), expected={"crm_loyalty_events": where}
    )
    assert not outcome.success
    assert [f.detail for f in outcome.failures] == [
        f"raw.crm_loyalty_events was not delivered (no {where}) but C360_REQUIRED_TABLES requires it: deliver it, "
        "or drop crm_loyalty_events from C360_REQUIRED_TABLES"
    ]


def test_an_absent_required_file_fails_the_extract_naming_the_pattern(tmp_path: Path) -> None:
    extract = Extract(_settings(tmp_path))
    write_crm_only(extract.settings.landing_dir, date(2024, 3, 1), date(2024, 9, 1), customers=5)
    (extract.settings.landing_dir / "crm" / "orders.csv").unlink()
    result = extract.run()
    assert not result.success
    assert (
        f"{extract.settings.landing_dir}/crm/orders*.csv: no file for required raw table crm_orders "
        "(Shopify orders export (times in the customer's local time)); deliver it, or drop crm_orders from "
        "C360_REQUIRED_TABLES" in failure_messages(result)
    )


# As-of date and freshness ----------------------------------------------------------------------------------------


def test_as_of_defaults_to_the_newest_data_date(crm_only_extract) -> None:
    extract, delivery = crm_only_extract
    (newest_signup,) = extract.query("select max(signed_up_at)::date from raw.crm_customers")[0]
    assert resolve_as_of_date("", extract.settings) == max(delivery.newest_date, newest_signup)
    assert resolve_as_of_date("2026-01-02", extract.settings) == date(2026, 1, 2)
    synthetic = Settings.from_env({**os.environ, "C360_DATA_DIR": str(extract.settings.data_dir)})
    assert resolve_as_of_date("", synthetic) == datetime.now(UTC).date()  # no manifest, not the user's own data


def test_freshness_is_configurable_per_table() -> None:
    settings = Settings.from_env({"C360_FRESHNESS_DAYS": "crm_orders=30, ga4_events=none"})
    assert settings.freshness_days == {"crm_orders": 30, "ga4_events": None}
    now, as_of = datetime(2019, 12, 31, 12, tzinfo=UTC), date(2019, 12, 31)
    ctx = GateContext(now=now, as_of=as_of, freshness_days=settings.freshness_days)
    assert parameters(raw_crm_orders, ctx, [])[_rules.FRESH_AFTER] == pd.Timestamp("2019-12-01", tz="UTC")
    default = parameters(raw_crm_orders, GateContext(now=now, as_of=as_of), [])[_rules.FRESH_AFTER]
    assert default == pd.Timestamp("2019-12-29", tz="UTC")
    with pytest.raises(KeyError, match="no raw table 'orders'"):
        Settings.from_env({"C360_FRESHNESS_DAYS": "orders=3"})
    with pytest.raises(KeyError, match="no raw table 'crm_order'"):
        Settings.from_env({"C360_REQUIRED_TABLES": "crm_customers,crm_order"})


# The whole run on a CRM-only delivery ----------------------------------------------------------------------------

#: What a CRM-only run must say is off, and the published tables that are empty because of it.
OFF = {
    "marketing spend empty": {"fct_ad_spend_daily", "dim_campaign"},
    "web sessions/attribution empty": {"fct_web_sessions"},
    "marketing performance by channel unknown": set(),
    "loyalty marts empty": {
        "fct_loyalty_events",
        "mart_loyalty",
        "mart_loyalty_monthly",
        "mart_loyalty_tier_migrations",
    },
    "order lines empty": {"fct_order_lines"},
    "product catalogue empty": {"dim_product"},
    "support empty": {"fct_support_tickets"},
    "NPS columns": set(),
    "audiences empty": {"mart_audiences"},
}


def _direct_fit(orders, as_of: date) -> dict[str, float]:
    """The purchase model (MBG/NBD, BG/NBD where that has no interior optimum) and Gamma-Gamma fitted with `models/`
    straight on the delivered orders (completed, USD, the UTC day),
    the spend model on repeat customers whose average repeat spend is positive."""
    frame = pd.DataFrame(
        [(o.customer_id, pd.Timestamp(o.ordered_at.date()), float(o.total)) for o in orders if not o.refunded],
        columns=["customer", "day", "amount"],
    )
    summary = calibration_summary(frame, "customer", "day", "amount", observation_end=pd.Timestamp(as_of))
    horizon = 12 * DAYS_PER_MONTH
    name, purchases = fit_purchase_model(summary["frequency"], summary["recency"], summary["T"], horizon=horizon)
    bg = purchases.params_
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]).params_
    return {
        "purchase_model": name,
        "customers": len(summary),
        "purchase_model_r": bg.r,
        "purchase_model_alpha_days": bg.alpha,
        "purchase_model_a": bg.a,
        "purchase_model_b": bg.b,
        "gamma_gamma_p": gg.p,
        "gamma_gamma_q": gg.q,
        "gamma_gamma_gamma": gg.gamma,
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("start", "end", "zero_order"),
    [
        # The case: years before the FX seed's range and a $0 repeat purchase (the values side of issue 11).
        # (A second case inside 2024-2026 without a $0 order only stood in while FX and value rules were unmerged:
        # every assertion it made, this case makes on harder data, at the cost of one more full pipeline run.)
        pytest.param(date(2015, 1, 1), date(2019, 12, 1), True, id="2015-2019"),
    ],
)
def test_a_crm_only_delivery_publishes_in_one_run_with_everything_accounted_for(
    tmp_path: Path, start: date, end: date, zero_order: bool
) -> None:
    settings = _settings(tmp_path)
    delivery = write_crm_only(settings.landing_dir, start, end, zero_order=zero_order)
    workspace = Workspace(settings, dg.DagsterInstance.ephemeral())
    outcome = workspace.run()
    report = handle_finished_run(settings, outcome).report_path.read_text()
    print(report)
    failed = [(c.asset, c.check, c.detail[:300]) for c in outcome.checks if not c.passed]
    assert outcome.success and outcome.published, (outcome.failed_steps, failed)

    # Every order and every cent: delivered = raw + quarantined, raw = staged = fct_orders.
    delivered = len(delivery.orders)
    revenue = sum((o.total for o in delivery.orders), Decimal(0))
    completed = sum((o.total for o in delivery.completed), Decimal(0))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        (raw_n, raw_sum), (q_n,), (stg_n, stg_sum), (fct_n, fct_sum, fct_net) = (
            con.execute("select count(*), sum(order_total::decimal(18, 2)) from raw.crm_orders").fetchone(),
            con.execute("select count(*) from audit.quarantine where raw_table = 'crm_orders'").fetchone(),
            con.execute("select count(*), sum(order_total::decimal(18, 2)) from staging.stg_crm__orders").fetchone(),
            con.execute(
                "select count(*), sum(order_total), sum(net_revenue_reporting) from marts.fct_orders"
            ).fetchone(),
        )
    assert (raw_n + q_n, raw_sum) == (delivered, revenue)
    assert q_n == 0
    assert stg_n == fct_n == raw_n
    assert Decimal(stg_sum) == Decimal(fct_sum) == revenue
    assert Decimal(fct_net) == completed  # refunds carry no net revenue; all orders are in USD

    # Absent sources: their published tables are empty and the summary names why.
    published = published_tables(settings.published_path)
    for line, tables in OFF.items():
        assert line in report, line
        assert {t: published[t] for t in tables} == dict.fromkeys(tables, 0), line
    assert published["fct_orders"] == delivered and published["mart_rfm"] > 0 and published["mart_clv"] > 0

    # The CLV fit equals a direct fit of models/ on the same orders, as of the data's newest date.
    as_of = resolve_as_of_date("", settings)
    assert as_of == max(delivery.newest_date, date.fromisoformat(str(_newest_signup(settings))))
    direct = _direct_fit(delivery.orders, as_of)
    columns = [name for name in direct if name != "customers"]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        [(*fitted, customers, fitted_as_of)] = con.execute(
            f"select {', '.join(columns)}, count(*), max(as_of_date) from customer_models.clv_predictions group by all"
        ).fetchall()
    assert (customers, fitted_as_of) == (direct["customers"], as_of)
    assert fitted[0] == direct["purchase_model"]
    for name, value in zip(columns[1:], fitted[1:], strict=True):
        assert value == pytest.approx(direct[name], rel=1e-9), name


def _newest_signup(settings: Settings) -> date:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute("select max(signed_up_at)::date from raw.crm_customers").fetchone()[0]


# The run summary ----------------------------------------------------------------------------------------------------


def test_a_failed_first_run_lists_the_delivery_problems_once_and_claims_no_previous_file(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    write_csv(settings.landing_dir / "crm" / "contacts.csv", CONTACTS_HEADER, [])
    failed = RunOutcome("r1", False, [], [], ["extract_ads", "extract_crm", "extract_ga4"])
    report = render(settings, failed)
    assert report.count("crm/orders*.csv: no file for required raw table crm_orders") == 1
    assert "the delivery cannot load (1 problem(s); nothing was loaded), fix and rerun:" in report
    assert "BI keeps reading the previous file" not in report
    assert f"nothing was published before either: BI has no file at {settings.published_path}" in report
