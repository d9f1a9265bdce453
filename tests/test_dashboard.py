"""The dashboard in a real browser: every page opens without an error and its key figures equal the marts.

The dashboard (dashboard/, Streamlit in .venv-dashboard) serves the session's baseline published file, read-only, as
`make dashboard` serves yours. Headless Chromium opens every page; a page fails on any JavaScript, console, HTTP or
rendered (query) error. At least three figures per page are checked against the same published file queried here
with DuckDB, mostly from other tables than the page reads (revenue from fct_orders against the page's
mart_customer_360, ...), so a figure must reconcile, not just be re-computed. Screenshots are kept in the test's
tmp dir (`screenshots/`, path printed), or in `$C360_TEST_SCREENSHOTS` if set.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import time
from pathlib import Path
from types import ModuleType

import duckdb
import pytest

from orchestration.warehouse import connect_file, connect_published
from tests.conftest import Baseline
from tests.dashboard_browser import (
    REPO,
    DashboardTab,
    chromium,
    dashboard_server,
    display_tolerance,
    displayed_number,
    missing_prerequisites,
)

AS_OF = "(select cast(details ->> 'as_of_date' as date) from _publish_log)"
COMPLETED_ORDERS = f"fct_orders where order_status = 'completed' and order_date <= {AS_OF}"
# The customer lookup opens on the customer with the highest net revenue (ties: the smaller key).
TOP_CUSTOMER = (
    "(select customer_key from mart_customer_360 order by net_revenue_reporting desc nulls last, customer_key limit 1)"
)

#: page title (as in the sidebar) -> {figure label: SQL giving the figure from the published marts}
PAGES: dict[str, dict[str, str]] = {
    "Executive overview": {
        "Net revenue": f"select sum(net_revenue_reporting) from {COMPLETED_ORDERS}",
        "Buying customers": f"select count(distinct customer_key) from {COMPLETED_ORDERS}",
        "Average order value": f"select sum(net_revenue_reporting) / count(*) from {COMPLETED_ORDERS}",
        "Active customers": "select count(*) from mart_customer_360 "
        "where lifecycle_stage in ('new', 'active', 'reactivated')",
        "Month-1 retention": "select sum(active_customers) / sum(cohort_size) from mart_cohort_retention "
        "where months_since_first_order = 1",
        "Predicted 12-month CLV": "select sum(predicted_clv_12_months_reporting) from mart_clv",
    },
    "Customer lookup": {
        "Completed orders": f"select count(*) from {COMPLETED_ORDERS} and customer_key = {TOP_CUSTOMER}",
        "Net revenue": f"select sum(net_revenue_reporting) from {COMPLETED_ORDERS} and customer_key = {TOP_CUSTOMER}",
        "Predicted 12-month CLV": "select predicted_clv_12_months_reporting from mart_clv "
        f"where customer_key = {TOP_CUSTOMER}",
        "Points balance": "select coalesce(sum(points_balance), 0) from mart_loyalty "
        f"where customer_key = {TOP_CUSTOMER}",
    },
    "RFM segments": {
        "Scored customers": f"select count(distinct customer_key) from {COMPLETED_ORDERS}",
        "Champions": "select count(*) from mart_rfm where rfm_segment = 'Champions'",
        "Monetary value": f"select sum(net_revenue_reporting) from {COMPLETED_ORDERS}",
        "Changed segment since last month end": "select sum(customers) from mart_rfm_transitions "
        "where from_segment is distinct from to_segment",
    },
    "CLV by cohort and channel": {
        "Customers with a completed order": "select count(*) from mart_clv",
        "Historical net revenue": "select sum(historical_net_revenue_reporting) from mart_clv",
        "Predicted 12-month CLV": "select sum(predicted_clv_12_months_reporting) from mart_clv",
    },
    "Loyalty": {
        "Members": "select count(distinct customer_key) from fct_loyalty_events",
        "Outstanding points": "select sum(points_earned - points_reversed - points_redeemed - points_expired) "
        "from mart_loyalty",
        "Points liability": "select sum(points_liability_reporting) from mart_loyalty",
    },
    "Marketing": {
        "Ad spend": "select sum(spend_reporting) from fct_ad_spend_daily",
        "ROAS (last touch, paid channels)": "select sum(last_touch_revenue_reporting) / sum(spend_reporting) "
        "from mart_marketing_performance where is_paid",
        "CAC (paid channels)": "select sum(spend_reporting) / sum(new_customers) "
        "from mart_marketing_performance where is_paid",
    },
    "Service": {
        "Tickets": "select count(*) from fct_support_tickets",
        "Open tickets": "select count(*) from fct_support_tickets where resolved_at is null",
        "Median first response (hours)": "select median(first_response_hours) from fct_support_tickets",
        "Average CSAT": "select avg(csat_score) from fct_support_tickets",
    },
    "Audiences": {
        "E-mail audience": "select count(*) from mart_audiences where audience_channel = 'email'",
        "SMS audience": "select count(*) from mart_audiences where audience_channel = 'sms'",
        "Ad platforms audience": "select count(*) from mart_audiences where audience_channel = 'ad_platforms'",
        "Champions via ad platforms": "select count(*) from mart_audience_members "
        "where audience = 'champions' and audience_channel = 'ad_platforms'",
        "High value at risk via e-mail": "select count(*) from mart_audience_members "
        "where audience = 'high_value_at_risk' and audience_channel = 'email'",
        "Lapsed loyalty members via ad platforms": "select count(*) from mart_audience_members "
        "where audience = 'lapsed_loyalty_members' and audience_channel = 'ad_platforms'",
    },
}


def expected_figures(published: Path) -> dict[str, dict[str, float]]:
    with connect_published(published) as con:
        return {
            page: {label: float(con.execute(sql).fetchall()[0][0]) for label, sql in figures.items()}
            for page, figures in PAGES.items()
        }


def cpu_seconds() -> float:
    """User + system CPU of this process and of its children that have exited (server, browser, driver)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def slug(title: str) -> str:
    return "-".join(title.lower().replace(":", "").split())


@pytest.mark.slow  # it reads the session's baseline pipeline run
def test_every_page_opens_without_errors_and_shows_the_marts_figures(
    xs_baseline: Baseline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = missing_prerequisites()
    assert not missing, "the browser test needs: " + "; ".join(missing)
    expected = expected_figures(xs_baseline.settings.published_path)
    screenshots = Path(os.environ.get("C360_TEST_SCREENSHOTS") or tmp_path / "screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    started, cpu_before = time.monotonic(), cpu_seconds()
    problems: list[str] = []
    with dashboard_server(xs_baseline.data_dir, tmp_path / "dashboard.log") as base_url, chromium() as browser:
        server_ready = time.monotonic() - started
        tab = DashboardTab(browser, base_url)
        for title, figures in expected.items():
            shown = tab.open(title, screenshots / f"{slug(title)}.png", figures)
            problems += [f"{title}: {error}" for error in shown.errors]
            for label, value in figures.items():
                text = shown.figures.get(label)
                if text is None:
                    problems.append(f"{title}: no figure {label!r} (shown: {sorted(shown.figures)})")
                elif abs(displayed_number(text) - value) > display_tolerance(text):
                    problems.append(f"{title}: {label} shows {text}, the marts say {value}")
        # The check itself must be able to fail: Streamlit reports a page that does not exist as an error.
        missing_page = DashboardTab(browser, f"{base_url}/no-such-page").open(
            "Executive overview", screenshots / "no-such-page.png"
        )
    assert missing_page.errors, "an unknown page raised no error: the browser checks see nothing"
    with capsys.disabled():
        print(
            f"\ndashboard: server ready in {server_ready:.1f} s, {len(expected)} pages in "
            f"{time.monotonic() - started:.1f} s wall, {cpu_seconds() - cpu_before:.1f} s CPU "
            f"(this process, the server and the browser); screenshots in {screenshots}"
        )
    assert not problems, "\n".join(problems)


def dashboard_marts_module() -> ModuleType:
    """dashboard/marts.py, loaded by path: the dashboard is not a package of the project (it has its own venv)."""
    spec = importlib.util.spec_from_file_location("dashboard_marts", REPO / "dashboard" / "marts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dashboard_reads_the_published_file_read_only_without_external_access(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marts = dashboard_marts_module()
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    with pytest.raises(marts.NoPublishedMarts, match="make demo"):
        marts.query("select 1")
    published = tmp_path / "published" / "marts.duckdb"
    published.parent.mkdir()
    with connect_file(published) as con:
        con.execute("create table mart_x as select 41 + 1 as answer")
    (tmp_path / "secret.csv").write_text("name\nAda Lovelace\n")

    assert marts.query("select answer from mart_x")["answer"].tolist() == [42]
    with pytest.raises(duckdb.PermissionException):  # no host files
        marts.query(f"select * from read_csv('{tmp_path / 'secret.csv'}')")
    with pytest.raises(duckdb.PermissionException):  # no other database (the build warehouse holds raw PII)
        marts.query(f"attach '{tmp_path / 'warehouse.duckdb'}' as build")
    with pytest.raises(duckdb.InvalidInputException, match="read-only"):  # no writes that block the next publish
        marts.query("create table mart_y (i integer)")
