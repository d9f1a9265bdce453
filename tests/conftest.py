"""Shared fixtures: XS data and its truth, an isolated data dir per workspace, an in-process pipeline run, and the
session's one clean XS run (`xs_baseline`) that tests needing a published warehouse read or copy instead of running
the pipeline again."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from c360_cli.collector import after_imports
from orchestration.config import Settings
from orchestration.extract.fx_rates import FxCoverage
from orchestration.instance_config import instance_yaml
from orchestration.run_outcome import RunOutcome, outcome_from_events
from orchestration.runner import run_daily_job
from simulator.generator.people import email_is_test
from simulator.landing_writer import write_tables
from simulator.retailer import GeneratorConfig, generate_with_truth
from tests.postgres_fixtures import require_postgres

XS = GeneratorConfig(scale="XS", seed=7)
#: The PII key of every run in the test session (the baseline's included); not the public throwaway key, so a test
#: can tell "keyed with the configured key" from "keyed with the default".
TEST_PII_KEY = "c360-test-session-pii-key-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True)
def pii_key_in_environment() -> Iterator[str]:
    """C360_PII_KEY set in the process environment for the session: Settings read it there and so does dbt (the
    pseudonym plugin, in the dbt process dagster-dbt starts with this environment)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("C360_PII_KEY", TEST_PII_KEY)
        patch.delenv("C360_PII_KEY_FILE", raising=False)
        patch.delenv("C360_PII_KEY_RETIRED", raising=False)
        yield TEST_PII_KEY


@pytest.fixture(scope="session")
def xs_generated() -> tuple[dict[str, pa.Table], dict[str, object]]:
    return generate_with_truth(XS)


@pytest.fixture(scope="session")
def xs_tables(xs_generated: tuple[dict[str, pa.Table], dict[str, object]]) -> dict[str, pa.Table]:
    return xs_generated[0]


@pytest.fixture(scope="session")
def xs_truth(xs_generated: tuple[dict[str, pa.Table], dict[str, object]]) -> dict[str, object]:
    return xs_generated[1]


@dataclass(frozen=True)
class ExpectedWarehouse:
    """What the marts should hold, derived from the generator's tables and truth, not from the warehouse: test
    accounts left out, every CRM record replaced by the true person behind it (duplicates merged)."""

    customers: pd.DataFrame  # customer_id, person_id, without test accounts
    orders: pd.DataFrame  # crm_orders of real customers, with person_id

    @property
    def persons(self) -> int:
        return self.customers["person_id"].nunique()

    @property
    def completed(self) -> pd.DataFrame:
        return self.orders[self.orders["status"] == "completed"]


def expected_warehouse(tables: dict[str, pa.Table], truth: dict[str, object]) -> ExpectedWarehouse:
    ids = truth["identities"].to_pandas()
    person = ids[ids["identifier_type"] == "customer_id"].set_index("identifier")["person_id"]
    crm = tables["crm_customers"]
    customers = crm.select(["customer_id"]).to_pandas()[~email_is_test(crm["email"])]
    customers["person_id"] = customers["customer_id"].map(person)
    orders = tables["crm_orders"].to_pandas()
    orders = orders[orders["customer_id"].isin(customers["customer_id"])].copy()
    orders["person_id"] = orders["customer_id"].map(person)
    return ExpectedWarehouse(customers=customers, orders=orders)


@pytest.fixture(scope="session")
def xs_expected(xs_tables: dict[str, pa.Table], xs_truth: dict[str, object]) -> ExpectedWarehouse:
    return expected_warehouse(xs_tables, xs_truth)


@dataclass
class Workspace:
    """One isolated C360_DATA_DIR with landed XS data; `run()` executes the daily job in this process."""

    settings: Settings
    instance: dg.DagsterInstance = field(default_factory=dg.DagsterInstance.ephemeral)

    def land(self, tables: dict[str, pa.Table], end_date: date = XS.end_date) -> None:
        """Replace the landed files; `end_date` is the last delivered day (a daily increment moves it on)."""
        write_tables(tables, self.settings.landing_dir, {"scale": XS.scale, "seed": XS.seed, "end_date": end_date})

    def run(self, *assets: dg.AssetKey) -> RunOutcome:
        """The daily job, or only `assets` of it."""
        return run_daily_job(self.settings, instance=self.instance, asset_selection=assets or None)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def make_workspace(data_dir: Path, tables: dict[str, pa.Table] | None, **env: str) -> Iterator[Workspace]:
    """A workspace on `data_dir` with `tables` landed (None: leave the landing folder as it is); extra settings as
    environment variables."""
    ws = Workspace(Settings.from_env({**os.environ, "C360_DATA_DIR": str(data_dir), "C360_SCALE": "XS", **env}))
    if tables is not None:
        ws.land(tables)
    yield ws


@dataclass(frozen=True)
class Baseline:
    """The session's clean XS run: XS data landed, the daily job run once, every gate passed, marts published.

    Read it (DuckDB files `read_only=True`), never write it: a test that changes the warehouse, lands data or runs
    the job works on its own copy (`copy_baseline`). The session checks at its end that the files are unchanged.
    """

    settings: Settings
    outcome: RunOutcome
    instance: dg.DagsterInstance  # the run's event log (materialization metadata), beside the data dir

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


def checkpoint(warehouse: Path) -> None:
    """Fold the write-ahead log into the file, so a file copy holds every committed write."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("checkpoint")


def _digests(data_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(data_dir)): file_digest(p) for p in sorted(data_dir.rglob("*.duckdb"))}


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder `build(folder)` fills once per test session, shared by pytest-xdist's workers (its documented
    pattern for session data: a lock in the session's common temp dir). The first worker that needs it builds it;
    the others wait and reuse it, instead of each building it again when the scheduler splits a module's tests
    between workers. Readers must not write to it."""
    shared = os.environ.get("PYTEST_XDIST_WORKER") is not None
    root = (tmp_path_factory.getbasetemp().parent if shared else tmp_path_factory.getbasetemp()) / name
    done = root.with_name(f"{name}.built")  # written last: marks the folder complete
    with open(root.with_name(f"{name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(root, ignore_errors=True)  # what a failed attempt left
            root.mkdir(parents=True)
            build(root)
            done.touch()
    return root


def _build_baseline(root: Path, tables: dict[str, pa.Table]) -> None:
    """Land the XS data in root/data and run the daily job once, its event log in root/dagster_home (outside the
    data dir, which stays as a run leaves it), its run id in root/run_id."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(instance_yaml(home))
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        with make_workspace(root / "data", tables) as ws:
            outcome = run_daily_job(ws.settings, instance=instance)
    finally:
        instance.dispose()
    assert outcome.success and outcome.published, outcome.failed_steps
    checkpoint(ws.settings.warehouse_path)
    (root / "run_id").write_text(outcome.run_id)


@pytest.fixture(scope="session")
def xs_baseline(tmp_path_factory: pytest.TempPathFactory, xs_tables: dict[str, pa.Table]) -> Iterator[Baseline]:
    """One full clean XS run per session, shared: build a workspace from it with `copy_baseline`.

    Under pytest-xdist the workers share it too (`built_once`): they read its files and its event log. One run
    instead of one per worker: ~45 s of CPU less per `make test`."""
    root = built_once(tmp_path_factory, "xs_baseline", lambda folder: _build_baseline(folder, xs_tables))
    run_id = (root / "run_id").read_text()
    instance = dg.DagsterInstance.from_config(str(root / "dagster_home"))
    events = [entry.dagster_event for entry in instance.all_logs(run_id) if entry.dagster_event is not None]
    outcome = outcome_from_events(run_id, instance.get_run_by_id(run_id).is_success, events)
    with make_workspace(root / "data", None) as ws:
        before = _digests(ws.settings.data_dir)
        yield Baseline(settings=ws.settings, outcome=outcome, instance=instance)
    instance.dispose()
    assert _digests(ws.settings.data_dir) == before, "a test wrote to the shared baseline: copy it (copy_baseline)"


@pytest.fixture(scope="session")
def fx_coverage(tmp_path_factory: pytest.TempPathFactory) -> FxCoverage:
    """What a run with default settings and no FX override files hands its quarantine rules and gates."""
    return FxCoverage.of(Settings.from_env({**os.environ, "C360_DATA_DIR": str(tmp_path_factory.mktemp("fx"))}))


@contextmanager
def copy_baseline(baseline: Baseline, data_dir: Path, **env: str) -> Iterator[Workspace]:
    """A workspace on a copy of the baseline's data dir (landing, warehouse, published/ with its versions, audit
    state, dlt state, reports): as if this test had run the clean XS pipeline itself. It gets a fresh Dagster
    instance, so the baseline run is not in its run history. Extra settings as environment variables."""
    shutil.copytree(baseline.data_dir, data_dir, dirs_exist_ok=True)
    with make_workspace(data_dir, None, **env) as ws:
        yield ws


def needs_baseline(item: pytest.Item) -> bool:
    return "xs_baseline" in getattr(item, "fixturenames", ())


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test that needs the session's clean run (`xs_baseline`) is `slow` (`make test-fast` leaves it out): the
    run is a whole daily job, whichever test happens to start it."""
    if needs_baseline(item):
        item.add_marker(pytest.mark.slow)


def worksteal_shares(count: int, workers: int) -> list[int]:
    """The sizes of the contiguous shares pytest-xdist's worksteal first hands its workers (its own arithmetic)."""
    sizes = []
    for worker in range(workers):
        sizes.append((count - sum(sizes)) // (workers - worker))
    return sizes


def balanced_order(items: list[pytest.Item], workers: int = 2) -> list[pytest.Item]:
    """The drawn order, regrouped so every worker stays busy until the end: the first test that needs `xs_baseline`
    starts the last worker's share, the other `slow` tests (whole pipeline runs) lead the others', and the rest of the
    baseline tests are dealt over every share after those, when the baseline is built.

    pytest-xdist's worksteal hands each of the `workers` a contiguous share of the order, then lets an idle worker
    steal from the tail of another's queue. In a random order several shares start with a test that needs the
    baseline, so one worker builds it while the others wait for it (~40 s idle each); here the last worker starts by
    building it while the others run tests that need none. Long tests first leave short ones to steal at the end,
    instead of one worker finishing a minute-long run alone (the baseline tests are all `slow`: see
    pytest_itemcollected). Within each group the random order is kept."""
    needs = [item for item in items if needs_baseline(item)]
    slow = [item for item in items if not needs_baseline(item) and item.get_closest_marker("slow") is not None]
    fast = iter([item for item in items if not needs_baseline(item) and item.get_closest_marker("slow") is None])
    if workers < 2:
        return [*slow, *needs, *fast]
    heads: list[list[pytest.Item]] = [slow[share :: workers - 1] for share in range(workers - 1)] + [[]]
    for dealt, item in enumerate(needs):  # the first to the last share, then the first share, the second, ...
        heads[(dealt - 1) % workers].append(item)
    ordered: list[pytest.Item] = []
    for head, size in zip(heads, worksteal_shares(len(items), workers), strict=True):
        ordered += head + list(islice(fast, max(size - len(head), 0)))
    return ordered + list(fast)


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle, on the final selection
def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    """A missing PostgreSQL stops the session at once with one line on how to start it, not a timeout per test."""
    require_postgres(session, items)
    workers = getattr(session.config, "workerinput", {}).get("workercount", 1)
    items[:] = balanced_order(items, workers)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The suite runs the daily job in its own processes: the same collector policy as a `c360` process
    (c360_cli/collector.py), from when the test modules and what they import are loaded."""
    after_imports()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process exits as it would without the policy: every object collectable again, so nothing the session
    still holds (a DuckDB connection in a kept traceback) outlives the interpreter."""
    gc.unfreeze()
