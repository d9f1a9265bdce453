"""`kill -9` of a real run (the whole process tree; dbt runs inside it) during extract, during dbt and during
publish: each killed run is found by the next start's sweep, marked failed and alerted (file + webhook), the killed
publish's `.marts.<run>.tmp` (and its `.wal`, if the kill came after the commit) is removed, the published file is
never touched, and the next run publishes the marts the clean run published.

Cost: one chain on one copy of the clean XS run. `c360 run` A is killed at its first raw table; `c360 run` B (which
sweeps A) at dbt's first built model; C is the daily job's publish step alone (the copy's warehouse already holds
the built marts, so no extract, gate or dbt step has to run first) killed while it writes the new file; `c360 run`
D sweeps B and C and succeeds. Each kill waits for the step in the run's own event log or files, never for a fixed
time. A, B and C are short; D is the one whole run.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from orchestration.config import Settings
from orchestration.extract.assets import extract_pipeline
from orchestration.extract.quarantine import DDL as QUARANTINE_DDL
from orchestration.extract.raw_contract import RAW_TABLES
from orchestration.publish.publisher import PUBLISH_LOG, published_tables
from orchestration.recovery import PID_TAG
from orchestration.runner import prepare_instance
from orchestration.warehouse import connect_published
from tests.conftest import Baseline, copy_baseline, file_digest, make_workspace
from tests.data_dir_modes import assert_private_except_published
from tests.webhook_sink import Webhook, webhook_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

C360 = Path(sys.executable).parent / "c360"
#: The daily job with only its publish step selected, in a process of its own (tagged as `c360 run` tags its runs).
PUBLISH_ONLY = """
import dagster as dg
from orchestration.config import Settings
from orchestration.definitions import build_definitions
from orchestration.recovery import process_tags
from orchestration.runner import prepare_instance
from orchestration.schedules import DAILY_JOB

settings = Settings.from_env()
job = build_definitions(settings).resolve_job_def(DAILY_JOB)
job.execute_in_process(
    instance=prepare_instance(settings), asset_selection=[dg.AssetKey(["published", "marts"])], tags=process_tags()
)
"""
PHASE_TIMEOUT_S = 1800  # a whole XS run on a loaded 2-core machine (15 min seen), with margin
POLL_S = 0.02


@dataclass
class Started:
    """A `c360 run` in its own process group (so the whole tree can be killed), its output in files."""

    process: subprocess.Popen
    out: Path
    err: Path

    @property
    def stderr(self) -> str:
        return self.err.read_text()


@dataclass(frozen=True)
class Killed:
    run_id: str
    tree: list[str]  # command lines of every process in the tree at the kill


def _start(data_dir: Path, env: dict[str, str], name: str, command: tuple[str, ...] = (str(C360), "run")) -> Started:
    out, err = data_dir.parent / f"{name}.out", data_dir.parent / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            list(command), env=env, stdout=stdout, stderr=stderr, start_new_session=True, text=True
        )
    return Started(process, out, err)


def _group(pgid: int) -> dict[int, str]:
    """Live (not zombie) processes of a process group: pid -> command line."""
    members = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            members[int(stat.parent.name)] = cmdline
    return members


def _wait_for(started: Started, found: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + PHASE_TIMEOUT_S
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if started.process.poll() is not None:
            raise AssertionError(f"c360 run exited ({started.process.returncode}) before {what}: {started.stderr}")
        time.sleep(POLL_S)
    raise AssertionError(f"no {what} within {PHASE_TIMEOUT_S} s")


def _kill_tree(started: Started) -> list[str]:
    """`kill -9` of the run's whole process group (the CLI, dbt runs in it); returns what was killed. The group is
    stopped first, so it is killed in the state that was waited for (a publish's WAL lives for a moment only), not
    after the time listing it takes."""
    pgid = started.process.pid
    os.killpg(pgid, signal.SIGSTOP)
    tree = _group(pgid)
    os.killpg(pgid, signal.SIGKILL)
    started.process.wait()
    deadline = time.monotonic() + 30
    while _group(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group(pgid), f"processes survived the kill: {_group(pgid)}"
    return list(tree.values())


class Chain:
    """One data dir, its Dagster instance (read from this process, as `make ui` would) and the runs started on it."""

    def __init__(self, settings: Settings) -> None:
        self.data_dir = settings.data_dir
        self.published = settings.published_path
        # Created here, before any run: two processes creating the instance's SQLite storage at once collide.
        self.instance = prepare_instance(settings)

    def run_id_of(self, started: Started) -> str:
        def run_id() -> str | None:
            runs = self.instance.get_runs(filters=dg.RunsFilter(tags={PID_TAG: str(started.process.pid)}))
            return runs[0].run_id if runs else None

        return str(_wait_for(started, run_id, "Dagster run"))

    def events(self, run_id: str, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
        return [e.dagster_event for e in self.instance.all_logs(run_id, of_type=kind) if e.dagster_event]

    def materialized(self, run_id: str, layers: tuple[str, ...]) -> bool:
        keys = [e.asset_key.path for e in self.events(run_id, dg.DagsterEventType.ASSET_MATERIALIZATION)]
        return any(key[0] in layers for key in keys)

    def started_steps(self, run_id: str) -> list[str]:
        return [e.step_key for e in self.events(run_id, dg.DagsterEventType.STEP_START)]

    def status(self, run_id: str) -> dg.DagsterRunStatus:
        return self.instance.get_run_by_id(run_id).status

    def leftovers(self) -> list[Path]:
        return sorted(self.published.parent.glob(".marts.*.tmp*"))


def _swept(chain: Chain, killed: Killed, started: Started, webhook: Webhook) -> None:
    """The next start found the killed run: marked failed, alerted by file and webhook with the cause."""
    assert f"run {killed.run_id} was left STARTED by a dead process: marked failed" in started.stderr
    assert chain.status(killed.run_id) == dg.DagsterRunStatus.FAILURE
    alert = json.loads((chain.data_dir / "alerts" / f"{killed.run_id}.json").read_text())
    assert alert["status"] == "failed" and "is gone (killed or crashed)" in alert["cause"]["run"], alert
    assert [a["cause"]["run"] for a in webhook.received if a.get("run_id") == killed.run_id] == [alert["cause"]["run"]]


def _expired_quarantine_row(settings: Settings) -> str:
    """A quarantine row past its retention in the warehouse; the next published run's retention step deletes it."""
    expired = f"expired-{secrets.token_hex(12)}@example.org"
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(QUARANTINE_DDL)
        con.execute(
            "insert into audit.quarantine values ('q-expired', 'synthetic', 'crm_customers', 'x', 2, 'email', "
            "'required value missing', ?, 'load-0', now() - interval 91 day)",
            [json.dumps({"email": expired})],
        )
        con.execute("checkpoint")
    assert expired.encode() in settings.warehouse_path.read_bytes()
    return expired


def _published_rfm(published: Path) -> list[tuple]:
    with connect_published(published) as con:
        return con.execute("select * from mart_rfm order by customer_key").fetchall()


def test_kill_9_during_extract_dbt_and_publish_is_swept_alerted_and_the_next_run_publishes(
    tmp_path: Path, xs_baseline: Baseline, xs_tables: dict[str, pa.Table], webhook: Webhook
) -> None:
    data_dir = tmp_path / "data"
    with copy_baseline(xs_baseline, data_dir) as ws:
        expired = _expired_quarantine_row(ws.settings)
        chain = Chain(ws.settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("C360_")}
    env |= {
        "C360_DATA_DIR": str(data_dir),
        "C360_SOURCE": "synthetic",
        "C360_PII_KEY": os.environ["C360_PII_KEY"],  # the baseline's key: pseudonyms stay those of its marts
        "C360_ALERT_WEBHOOK_URL": webhook.url,
    }
    published_before = file_digest(chain.published)

    def kill_when(
        name: str, found: Callable[[str], object], phase: str, command: tuple[str, ...] = (str(C360), "run")
    ) -> tuple[Killed, Started]:
        started = _start(data_dir, env, name, command)
        run_id = chain.run_id_of(started)
        _wait_for(started, lambda: found(run_id), phase)
        killed = Killed(run_id, _kill_tree(started))
        assert chain.status(run_id) == dg.DagsterRunStatus.STARTED  # nothing else notices a kill -9
        assert file_digest(chain.published) == published_before, f"the published file changed during {phase}"
        return killed, started

    # A: killed once the first raw table is loaded, before any gate or dbt step started.
    a, _ = kill_when("a", lambda run: chain.materialized(run, ("raw",)), "raw table loaded")
    assert not [s for s in chain.started_steps(a.run_id) if s.startswith(("dbt_", "published"))]

    # B: sweeps A; killed once dbt has built its first model, with the dbt step still running.
    b, b_started = kill_when("b", lambda run: chain.materialized(run, ("staging", "intermediate")), "dbt model built")
    _swept(chain, a, b_started, webhook)
    assert "dbt_warehouse" in chain.started_steps(b.run_id)
    ended = {event.step_key for event in chain.events(b.run_id, dg.DagsterEventType.STEP_SUCCESS)}
    assert "dbt_warehouse" not in ended  # the kill took dbt down mid-build

    # C: the publish step alone; killed while it writes the new file (the staging file and its WAL exist).
    def publishing(run: str) -> bool:  # the staging file lives from the attach to the rename; its WAL only from
        return chain.published.with_name(f".marts.{run}.tmp").exists()  # the commit to the checkpoint (ms at XS)

    c, _ = kill_when("c", publishing, "publish writing .marts.<run>.tmp", (sys.executable, "-c", PUBLISH_ONLY))
    assert chain.started_steps(c.run_id) == ["published__marts"], chain.started_steps(c.run_id)
    assert f".marts.{c.run_id}.tmp" in {p.name for p in chain.leftovers()}
    with connect_published(chain.published) as con:  # the live file still opens and is the baseline's
        assert con.execute(f"select run_id from {PUBLISH_LOG}").fetchall() == [(xs_baseline.outcome.run_id,)]

    # D: sweeps B and C, removes C's leftovers, publishes what the clean run published (A's and B's partial loads
    # merged away).
    d = _start(data_dir, env, "d")
    assert d.process.wait(timeout=PHASE_TIMEOUT_S) == 0, d.stderr + d.out.read_text()
    _swept(chain, b, d, webhook)
    _swept(chain, c, d, webhook)
    assert f"removed {chain.published.with_name(f'.marts.{c.run_id}.tmp')} (left by a killed publish)" in d.stderr
    assert chain.leftovers() == []
    d_run = chain.run_id_of(d)
    assert chain.status(d_run) == dg.DagsterRunStatus.SUCCESS
    with connect_published(chain.published) as con:
        assert con.execute(f"select run_id from {PUBLISH_LOG}").fetchall() == [(d_run,)]
    # D is also the rerun of the clean run's landing folder (what test_privacy's rerun test proved with a run of its
    # own): the same marts, raw merged on the keys, the previous file kept, an expired quarantine row deleted.
    assert published_tables(chain.published) == published_tables(xs_baseline.settings.published_path)
    assert _published_rfm(chain.published) == _published_rfm(xs_baseline.settings.published_path)
    with duckdb.connect(str(ws.settings.warehouse_path), read_only=True) as con:
        for spec in RAW_TABLES:  # merged on the keys: not one row more, after A's and B's partial loads too
            (rows,) = con.execute(f"select count(*) from raw.{spec.name}").fetchall()[0]
            assert rows == xs_tables[spec.name].num_rows, spec.name
    assert len(list((chain.published.parent / "versions").glob("*.duckdb"))) == 1  # the clean run's, for rollback
    event = chain.instance.get_latest_materialization_event(dg.AssetKey(["published", "retention"]))
    assert event.run_id == d_run and event.asset_materialization.metadata["quarantine_rows_deleted"].value == 1
    assert expired.encode() not in ws.settings.warehouse_path.read_bytes()
    assert_private_except_published(ws.settings)
    assert sorted(p.stem for p in (data_dir / "alerts").glob("*.json")) == sorted([a.run_id, b.run_id, c.run_id])


def test_a_load_left_pending_by_a_killed_run_is_aborted_and_the_delivery_extracted(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    """A run killed between dlt's extract and the end of its load leaves a load package behind (here: one stale row,
    extracted, never normalised). The next run must not load it in place of the delivery (dlt's `run` loads pending
    packages first and then stops): raw holds the delivery, once, under the new run's load id, and nothing of the
    stale package. dagster-dlt drops the pipeline's local state before each run; with that drop disabled this still
    passes (dlt's run then reconciles its local state with the destination's): this pins the behaviour, whichever
    layer provides it."""
    with make_workspace(tmp_path / "data", xs_tables) as ws:
        pipeline = extract_pipeline("ga4", ws.settings)
        stale = {"event_id": "left-by-a-killed-run", "event_timestamp": 0, "event_name": "page_view"}
        pipeline.extract([stale], table_name="ga4_events", write_disposition="append")  # killed before normalise
        assert pipeline.has_pending_data
        outcome = ws.run(dg.AssetKey(["ops", "preflight"]), dg.AssetKey(["raw", "ga4_events"]))
        assert outcome.success, outcome.step_errors
        assert not pipeline.has_pending_data
        with duckdb.connect(str(ws.settings.warehouse_path), read_only=True) as con:
            rows, ids, stale_rows, loads = con.execute(
                "select count(*), count(distinct event_id), count(*) filter (where event_id = ?), "
                "count(distinct _load_id) from raw.ga4_events",
                [stale["event_id"]],
            ).fetchone()
        assert (rows, ids, stale_rows, loads) == (xs_tables["ga4_events"].num_rows, rows, 0, 1)
