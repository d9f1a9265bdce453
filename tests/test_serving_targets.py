"""Serving targets fail independently: a PostgreSQL outage does not stop the DuckDB file from being published; the
Postgres copy is reported stale and alerted, keeps serving its previous complete run, and the next publish there
catches it up.

Cost: the daily job's publish steps only, over a copy of the clean XS run's warehouse (already built and checked):
how the two targets fail apart is decided there; what gates a publish is tests/test_gates.py's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from orchestration.alerts import handle_finished_run
from orchestration.definitions import build_definitions
from orchestration.publish.pg_roles import provision_reader_role
from orchestration.publish.postgres_serving import served_run
from orchestration.publish.publisher import PUBLISH_LOG, published_tables
from orchestration.warehouse import connect_published
from tests.conftest import Baseline, Workspace, copy_baseline, file_digest
from tests.postgres_fixtures import (  # noqa: F401 (fixture)
    PgTarget,
    _admin,
    postgres_marts,
    reader_role_fixture,
    throwaway_database,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PUBLISH_STEPS = (dg.AssetKey(["published", "marts"]), dg.AssetKey(["published", "postgres"]))


def allow_connections(target: PgTarget, allowed: bool) -> None:
    """An outage of the serving database as clients see it: every new connection is refused."""
    with _admin() as conn, conn.cursor() as cur:
        cur.execute(f'alter database "{target.dbname}" with allow_connections {str(allowed).lower()}')
        if not allowed:
            cur.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (target.dbname,))


@pytest.fixture
def serving(tmp_path: Path, xs_baseline: Baseline, reader_role: str) -> Iterator[tuple[Workspace, PgTarget]]:
    """A copy of the clean XS run, configured to also publish to a real PostgreSQL that is down."""
    with throwaway_database() as target:
        provision_reader_role(target.dsn, reader_role)
        env = {
            "C360_POSTGRES_DSN": target.dsn,
            "C360_POSTGRES_READER_ROLE": reader_role,
            "C360_RETRY_MAX": "1",  # one retry of the connection, then the step fails
            "C360_RETRY_DELAY_S": "0.1",
        }
        with copy_baseline(xs_baseline, tmp_path, **env) as ws:
            allow_connections(target, False)
            try:
                yield ws, target
            finally:
                allow_connections(target, True)


def test_postgres_outage_still_publishes_the_file_then_the_next_publish_catches_postgres_up(
    serving: tuple[Workspace, PgTarget],
) -> None:
    workspace, target = serving
    before = file_digest(workspace.settings.published_path)

    outcome = workspace.run(*PUBLISH_STEPS)

    # The file is the run's: published; only the Postgres step failed, with its cause.
    assert outcome.published and file_digest(workspace.settings.published_path) != before
    with connect_published(workspace.settings.published_path) as con:
        assert con.execute(f"select run_id from {PUBLISH_LOG}").fetchall() == [(outcome.run_id,)]
    assert not outcome.success
    assert outcome.failed_steps == ["published__postgres"]
    assert outcome.stale_serving_targets == ["PostgreSQL"]
    assert "is not currently accepting connections" in outcome.step_errors["published__postgres"]

    handled = handle_finished_run(workspace.settings, outcome, workspace.instance)
    alert = json.loads(handled.alert_path.read_text())
    assert alert["summary"].endswith("; published; PostgreSQL serving stale")
    assert "is not currently accepting connections" in alert["cause"]["published__postgres"]
    assert "PostgreSQL serving STALE" in handled.report_path.read_text()

    # Back up: the next publish there (the step every run ends with) serves exactly the file's marts and run.
    allow_connections(target, True)
    assert served_run(target.dsn) is None  # nothing was ever published there: the outage left no partial schema
    postgres_step = build_definitions(workspace.settings).get_assets_def(dg.AssetKey(["published", "postgres"]))
    caught_up = dg.materialize([postgres_step], instance=workspace.instance, raise_on_error=False)
    assert caught_up.success
    assert postgres_marts(target) == (caught_up.run_id, published_tables(workspace.settings.published_path))
