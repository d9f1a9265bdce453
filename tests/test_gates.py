"""Gates really block: a bad raw batch or a failing dbt test publishes nothing and BI keeps the last good file."""

from __future__ import annotations

import pyarrow as pa
import pytest

from orchestration.publish.publisher import published_tables
from orchestration.runner import RunOutcome
from tests.conftest import Workspace, file_digest

pytestmark = pytest.mark.slow


def _replace(table: pa.Table, column: str, rows: range, value: object) -> pa.Table:
    values = table[column].to_pylist()
    for i in rows:
        values[i] = value
    return table.set_column(
        table.schema.get_field_index(column), column, pa.array(values, table.schema.field(column).type)
    )


@pytest.fixture(scope="module")
def good_run(workspace: Workspace) -> RunOutcome:
    outcome = workspace.run()
    assert outcome.success and outcome.published
    return outcome


def test_bad_raw_batch_fails_the_gx_gate_for_the_right_reasons(
    good_run: RunOutcome, workspace: Workspace, xs_tables: dict[str, pa.Table]
) -> None:
    published = workspace.settings.published_path
    digest = file_digest(published)
    orders = xs_tables["crm_orders"]
    orders = _replace(orders, "customer_id", range(0, 5), None)
    orders = _replace(orders, "order_total", range(5, 8), -10.0)
    orders = _replace(orders, "currency", range(8, 10), "XXX")
    workspace.land({**xs_tables, "crm_orders": orders})

    outcome = workspace.run()

    assert not outcome.success
    assert not outcome.published
    (gate,) = [c for c in outcome.checks if c.check == "gx_raw_crm_orders"]
    assert not gate.passed
    for reason in (
        "'column': 'customer_id'",
        "'column': 'order_total'",
        "'column': 'currency'",
        "XXX",
        "-10.0",
    ):
        assert reason in gate.detail, reason
    assert not any(c.check != "gx_raw_crm_orders" for c in outcome.checks), "dbt must not run after a failed gate"
    assert file_digest(published) == digest


def test_failing_dbt_test_blocks_publish(
    good_run: RunOutcome, workspace: Workspace, xs_tables: dict[str, pa.Table]
) -> None:
    """Order lines are not GX-gated; a zero quantity passes extraction and must be stopped by the dbt test."""
    published = workspace.settings.published_path
    digest = file_digest(published)
    lines = _replace(xs_tables["crm_order_lines"], "quantity", range(0, 3), 0)
    workspace.land({**xs_tables, "crm_order_lines": lines})

    outcome = workspace.run()

    assert not outcome.success
    assert not outcome.published
    assert [c.passed for c in outcome.checks if c.check == "gx_raw_crm_orders"] == [True]
    failed = [c.check for c in outcome.checks if not c.passed]
    assert any("quantity" in name for name in failed), failed
    assert file_digest(published) == digest


def test_good_batch_after_failures_publishes_again(
    good_run: RunOutcome, workspace: Workspace, xs_tables: dict[str, pa.Table]
) -> None:
    published = workspace.settings.published_path
    digest = file_digest(published)
    workspace.land(xs_tables)
    outcome = workspace.run()
    assert outcome.success and outcome.published
    assert file_digest(published) != digest  # a new file with this run's _publish_log
    counts = published_tables(published)
    assert (counts["fct_orders"], counts["mart_customer_360"]) == (xs_tables["crm_orders"].num_rows, 1_000)
