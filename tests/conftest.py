"""Shared fixtures: an isolated data dir per workspace, XS data, and an in-process pipeline run."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.config import Settings
from orchestration.run_outcome import RunOutcome
from orchestration.runner import run_daily_job
from simulator.generator.people import email_is_test
from simulator.landing_writer import write_tables
from simulator.retailer import GeneratorConfig, generate_with_truth

XS = GeneratorConfig(scale="XS", seed=7)


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

    def run(self) -> RunOutcome:
        return run_daily_job(self.settings, instance=self.instance)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def make_workspace(data_dir: Path, tables: dict[str, pa.Table], **env: str) -> Iterator[Workspace]:
    """A workspace on `data_dir` with `tables` landed; extra settings as environment variables."""
    ws = Workspace(Settings.from_env({**os.environ, "C360_DATA_DIR": str(data_dir), "C360_SCALE": "XS", **env}))
    ws.land(tables)
    yield ws


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, xs_tables: dict[str, pa.Table]) -> Iterator[Workspace]:
    with make_workspace(tmp_path_factory.mktemp("c360"), xs_tables) as ws:
        yield ws
