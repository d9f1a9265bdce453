"""Gates really block: a bad raw batch or a failing dbt test publishes nothing and BI keeps the last good file.

Each test starts from its own copy of the session's clean XS run (published to the file and to a real Postgres),
injects its fault, and runs the daily job; none relies on what another test left behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from expectations._rules import MAX_QUARANTINE_RATE
from orchestration.definitions import build_definitions
from orchestration.extract.ledger import discard_load
from orchestration.publish.assets import marts_to_publish
from orchestration.publish.pg_roles import provision_reader_role
from orchestration.publish.postgres_serving import publish_to_postgres
from orchestration.publish.publisher import PUBLISH_LOG, published_tables
from orchestration.transform.project import dbt_project
from tests.conftest import Baseline, ExpectedWarehouse, Workspace, copy_baseline, file_digest
from tests.postgres_fixtures import (  # noqa: F401  (fixture)
    PgTarget,
    postgres_marts,
    reader_role_fixture,
    throwaway_database,
)
from tests.webhook_sink import Webhook, webhook_fixture  # noqa: F401  (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _replace(table: pa.Table, column: str, rows: range, value: object) -> pa.Table:
    values = table[column].to_pylist()
    for i in rows:
        values[i] = value
    return table.set_column(
        table.schema.get_field_index(column), column, pa.array(values, table.schema.field(column).type)
    )


@pytest.fixture
def postgres() -> Iterator[PgTarget]:
    with throwaway_database() as target:
        yield target


@pytest.fixture
def workspace(
    tmp_path: Path, xs_baseline: Baseline, postgres: PgTarget, webhook: Webhook, reader_role: str
) -> Iterator[Workspace]:
    """A copy of the clean XS run that also publishes to a real Postgres and alerts a real webhook. Postgres starts
    out serving the clean run's marts, as if that run had published there too (the last good marts)."""
    provision_reader_role(postgres.dsn, reader_role)
    env = {
        "C360_POSTGRES_DSN": postgres.dsn,
        "C360_POSTGRES_READER_ROLE": reader_role,
        "C360_ALERT_WEBHOOK_URL": webhook.url,
    }
    with copy_baseline(xs_baseline, tmp_path, **env) as ws:
        with duckdb.connect(str(ws.settings.published_path), read_only=True) as con:
            (details,) = con.execute(f"select details from {PUBLISH_LOG}").fetchall()[0]
        publish_to_postgres(
            ws.settings.warehouse_path,
            [("marts", name) for name in marts_to_publish(Path(dbt_project().manifest_path))],
            postgres.dsn,
            run_id=xs_baseline.outcome.run_id,
            details=json.loads(details),
            reader_role=reader_role,
        )
        assert postgres_marts(postgres) == (xs_baseline.outcome.run_id, published_tables(ws.settings.published_path))
        yield ws


def fire_failure_sensor(workspace: Workspace, run_id: str) -> None:
    """Evaluate the real run-failure sensor on this run, as the Dagster daemon would."""
    sensor = build_definitions(workspace.settings).resolve_sensor_def("alert_on_failed_run")
    (failure,) = workspace.instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_failed_run",
        dagster_event=failure.event_log_entry.dagster_event,
        dagster_instance=workspace.instance,
        dagster_run=workspace.instance.get_run_by_id(run_id),
    ).for_run_failure()
    sensor(context)


def test_bad_raw_batch_fails_the_gx_gate_for_the_right_reasons(
    xs_baseline: Baseline,
    workspace: Workspace,
    xs_tables: dict[str, pa.Table],
    postgres: PgTarget,
    webhook: Webhook,
) -> None:
    published = workspace.settings.published_path
    digest = file_digest(published)
    orders = xs_tables["crm_orders"]
    orders = _replace(orders, "customer_id", range(0, 5), None)
    orders = _replace(orders, "order_total", range(5, 8), -10.0)
    orders = _replace(orders, "currency", range(8, 28), "XXX")  # quarantined: 20 rows, over the 1% gate
    assert 20 / orders.num_rows > MAX_QUARANTINE_RATE
    workspace.land({**xs_tables, "crm_orders": orders})

    outcome = workspace.run()

    assert not outcome.success
    assert not outcome.published
    (gate,) = [c for c in outcome.checks if c.check == "gx_raw_crm_orders"]
    assert not gate.passed
    for reason in ("'column': 'customer_id'", "'column': 'order_total'", "-10.0", "'column': 'quarantine_rate'"):
        assert reason in gate.detail, reason
    assert "'column': 'currency'" not in gate.detail  # unconvertible rows never reach raw: they are quarantined
    with duckdb.connect(str(workspace.settings.warehouse_path), read_only=True) as con:
        newest = "(select max(load_id) from audit.loads where table_name = 'crm_orders')"
        quarantined = con.execute(
            f"select row_number, reason from audit.quarantine where _load_id = {newest} order by row_number"
        ).fetchall()
        ledger = con.execute(
            f"select rows_extracted, rows_loaded, rows_quarantined from audit.loads where load_id = {newest} "
            "and table_name = 'crm_orders'"
        ).fetchall()
    assert quarantined == [
        (i + 1, "unknown currency 'XXX': no FX rate (ECB reference rates or landing/fx_rates*.csv)")
        for i in range(8, 28)
    ]
    assert ledger == [(orders.num_rows, orders.num_rows - 20, 20)]
    assert all(c.check.startswith("gx_raw_") for c in outcome.checks), "dbt must not run after a failed gate"
    assert [c.check for c in outcome.checks if not c.passed] == ["gx_raw_crm_orders"]
    assert file_digest(published) == digest
    assert postgres_marts(postgres)[0] == xs_baseline.outcome.run_id  # Postgres marts unchanged too

    fire_failure_sensor(workspace, outcome.run_id)
    alert = json.loads((workspace.settings.alerts_dir / f"{outcome.run_id}.json").read_text())
    assert [c["check"] for c in alert["failed_checks"]] == ["gx_raw_crm_orders"]
    assert "'column': 'customer_id'" in alert["failed_checks"][0]["detail"]
    assert [(a["run_id"], a["status"]) for a in webhook.received] == [(outcome.run_id, "failed")]
    fire_failure_sensor(workspace, outcome.run_id)  # the daemon may evaluate a run twice: still one alert
    assert len(webhook.received) == 1
    tags = workspace.instance.get_run_by_id(outcome.run_id).tags
    assert tags["c360/summary"].endswith("NOT published")


def test_failing_dbt_test_blocks_publish(
    xs_baseline: Baseline, workspace: Workspace, xs_tables: dict[str, pa.Table], postgres: PgTarget
) -> None:
    """A line pointing at an order that does not exist passes every row rule (GX checks a batch, not references);
    dbt's relationships test must stop it."""
    published = workspace.settings.published_path
    digest = file_digest(published)
    lines = _replace(xs_tables["crm_order_lines"], "order_id", range(0, 3), "O-does-not-exist")
    workspace.land({**xs_tables, "crm_order_lines": lines})

    outcome = workspace.run()

    assert not outcome.success
    assert not outcome.published
    assert all(c.passed for c in outcome.checks if c.check.startswith("gx_raw_"))
    failed = [c.check for c in outcome.checks if not c.passed]
    assert failed == ["relationships_stg_crm__order_lines_order_id__order_id__ref_stg_crm__orders_"], failed
    assert file_digest(published) == digest
    assert postgres_marts(postgres)[0] == xs_baseline.outcome.run_id


def ten_fold(events: pa.Table) -> pa.Table:
    """Ten copies of the web events under new ids: a 10x batch against the ledger's recent loads."""
    return pa.concat_tables(
        [
            events.set_column(0, "event_id", pc.binary_join_element_wise(events["event_id"], f"-{i}", ""))
            for i in range(10)
        ]
    )


def test_a_volume_spike_fails_its_gate_and_keeps_blocking_until_discarded_then_good_data_publishes(
    workspace: Workspace,
    xs_tables: dict[str, pa.Table],
    xs_expected: ExpectedWarehouse,
    postgres: PgTarget,
) -> None:
    """A 10x web delivery fails the GA4 gate on its newest day's volume and nothing is published. Fail-closed: the
    rejected spike's rows stay in raw (merge never deletes) and unpublished, so the next good delivery is still judged
    together with them and blocked; discarding the rejected load unblocks it, and that run publishes the same marts
    to the file and to Postgres."""
    published = workspace.settings.published_path
    digest = file_digest(published)
    workspace.land({**xs_tables, "ga4_events": ten_fold(xs_tables["ga4_events"])})
    spike = workspace.run()
    assert not spike.published
    (gate,) = [c for c in spike.checks if c.check == "gx_raw_ga4_events"]
    assert not gate.passed and "'column': 'newest_day_rows'" in gate.detail
    assert file_digest(published) == digest

    workspace.land(xs_tables)
    blocked = workspace.run()
    assert not blocked.published
    assert [c.check for c in blocked.checks if not c.passed] == ["gx_raw_ga4_events"]
    assert file_digest(published) == digest

    events = xs_tables["ga4_events"].num_rows
    with duckdb.connect(str(workspace.settings.warehouse_path), read_only=True) as con:
        (spike_load,) = con.execute(
            "select load_id from audit.loads where table_name = 'ga4_events' and published_at is null "
            "and rows_extracted = ?",
            [10 * events],
        ).fetchall()[0]
    assert discard_load(workspace.settings.warehouse_path, spike_load, datetime.now(UTC)) == {"ga4_events": 10 * events}

    outcome = workspace.run()
    assert outcome.success and outcome.published
    assert file_digest(published) != digest  # a new file with this run's _publish_log
    counts = published_tables(published)
    # The good delivery's resolved people and their orders (test accounts left out), from the generator's truth.
    assert (counts["fct_orders"], counts["mart_customer_360"]) == (len(xs_expected.orders), xs_expected.persons)
    assert postgres_marts(postgres) == (outcome.run_id, counts)
    with duckdb.connect(str(workspace.settings.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.ga4_events").fetchall()[0][0] == events
        unpublished = con.execute(
            "select count(*) from audit.loads where published_at is null and discarded_at is null"
        )
        assert unpublished.fetchall()[0][0] == 0
