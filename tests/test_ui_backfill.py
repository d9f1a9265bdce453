"""A backfill launched from the Dagster UI: `make ui`'s `dagster dev` (webserver, daemon, code server) gets the
GraphQL mutation the UI's "Launch backfill" sends for a range of the daily job's partitions; its daemon runs the
days one at a time, oldest first (the instance allows one run at a time: orchestration/instance_config.py), each
as of its day.

Cost: the runs publish only (`published/marts` over a copy of the clean XS baseline's built warehouse): what is
tested here is the launch, the order and the as-of date of each day; a backfill's days as whole runs, equal to a
single run at the last date, are `c360 backfill`'s test (tests/test_backfill.py), the same job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import dagster as dg

from orchestration.as_of import AS_OF_TAG
from orchestration.publish.publisher import PUBLISH_LOG, VERSIONS_DIR
from orchestration.runner import prepare_instance
from orchestration.schedules import DAILY_JOB
from orchestration.warehouse import connect_published
from tests.conftest import XS, Baseline, copy_baseline
from tests.dashboard_browser import free_port

LAUNCH_BACKFILL = """
mutation ($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
  }
}
"""
DAYS = [(XS.end_date - timedelta(days=1)).isoformat(), XS.end_date.isoformat()]


def _signals_default() -> None:
    """In the child, before exec: ignored signals stay ignored across exec (see tests/test_docs_site.py)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def dagster_dev(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`make ui`'s command on a free port; yields the GraphQL URL once the webserver answers."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-m",
        "orchestration.definitions",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    with log_path.open("w") as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_signals_default
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5).close()
                    break
                except OSError:
                    assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                    time.sleep(1)
            yield f"http://127.0.0.1:{port}/graphql"
        finally:
            os.killpg(server.pid, signal.SIGTERM)  # dagster dev, its daemon, code server and run workers
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _graphql(url: str, query: str, variables: dict) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _wait_for_runs(instance: dg.DagsterInstance, backfill_id: str, count: int, log_path: Path) -> list[dg.DagsterRun]:
    deadline = time.monotonic() + 300
    while True:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        if len(runs) == count and all(r.is_finished for r in runs):
            return sorted(runs, key=lambda r: r.tags["dagster/partition"])
        assert time.monotonic() < deadline, (
            f"runs: {[(r.run_id, r.status) for r in runs]}\n{log_path.read_text()[-3000:]}"
        )
        time.sleep(2)


def _launched_at(instance: dg.DagsterInstance, run_id: str) -> float:
    """When the run queue launched the run (its RUN_STARTING event), as a timestamp."""
    (event,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_STARTING)
    return event.timestamp


def test_a_backfill_launched_from_the_ui_runs_its_days_one_at_a_time_oldest_first(
    tmp_path: Path, xs_baseline: Baseline
) -> None:
    with copy_baseline(xs_baseline, tmp_path / "data") as ws:
        settings = ws.settings
    prepare_instance(settings).dispose()  # the instance `make ui` prepares: one run at a time
    env = {
        **os.environ,
        "C360_DATA_DIR": str(settings.data_dir),
        "C360_SOURCE": "synthetic",
        "C360_SCALE": "XS",
        "DAGSTER_HOME": str(settings.dagster_home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # as the Makefile's, for `dbt`
    }
    log_path = tmp_path / "dagster_dev.log"
    with dagster_dev(env, log_path) as url:
        params = {
            "selector": {
                "partitionSetName": f"{DAILY_JOB}_partition_set",
                "repositorySelector": {
                    "repositoryLocationName": "orchestration.definitions",
                    "repositoryName": "__repository__",
                },
            },
            "partitionNames": DAYS,
            "assetSelection": [{"path": ["published", "marts"]}],
        }
        launched = _graphql(url, LAUNCH_BACKFILL, {"params": params})["data"]["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
            runs = _wait_for_runs(instance, launched["backfillId"], len(DAYS), log_path)
            launched_at = {r.run_id: _launched_at(instance, r.run_id) for r in runs}
            records = {
                r.dagster_run.run_id: r
                for r in instance.get_run_records(dg.RunsFilter(run_ids=[r.run_id for r in runs]))
            }

    assert [(r.tags["dagster/partition"], r.tags[AS_OF_TAG], r.status) for r in runs] == [
        (day, day, dg.DagsterRunStatus.SUCCESS) for day in DAYS
    ]
    first, second = (records[r.run_id] for r in runs)
    assert first.end_time is not None and second.start_time is not None
    # One at a time: the queue launched the later day only once the older one had ended (not merely started later).
    assert first.end_time <= launched_at[second.dagster_run.run_id]

    as_of = {}
    for path in [settings.published_path, *(settings.published_path.parent / VERSIONS_DIR).glob("*.duckdb")]:
        with connect_published(path) as con:
            for run_id, details in con.execute(f"select run_id, details from {PUBLISH_LOG}").fetchall():
                as_of[run_id] = json.loads(details)["as_of_date"]
    assert [as_of.get(r.run_id) for r in runs] == DAYS  # each day's publish is as of that day
