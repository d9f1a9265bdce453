"""Run the dbt project alone against a warehouse whose raw schema a test fills directly (no extract, no Dagster).

Why: warehouse behaviour (identity resolution, incremental equivalence) needs many dbt runs over controlled raw
loads; going through the whole pipeline for each would be slow and would test the extract again. Loads mimic the
extractor's contract: the raw contract's columns plus `_load_id`/`_loaded_at`, merged on the primary key.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.config import DBT_PROJECT_DIR, Settings
from orchestration.extract.fx_rates import reference_rates, write_raw_fx_rates
from orchestration.extract.ledger import record_load
from orchestration.extract.raw_contract import RAW_TABLES, raw_table
from orchestration.transform.in_process import invoke_dbt, parsed_manifest
from orchestration.transform.project import (
    dbt_project,
    ensure_manifest,
    project_parse_cache,
    write_dbt_build_profile,
    write_dbt_profile,
)
from tests.conftest import checkpoint


def ensure_fx_rates(warehouse: Path, reporting_currency: str = "USD") -> None:
    """raw.fx_rates as the `raw/fx_rates` asset writes it (ECB rates + the data dir's override files), once."""
    with duckdb.connect(str(warehouse)) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'fx_rates'"
        ).fetchone()[0]
    if not exists:
        write_raw_fx_rates(warehouse, reference_rates(warehouse.parent, reporting_currency))


def merge_load(warehouse: Path, tables: dict[str, pa.Table], load_id: str, loaded_at: datetime) -> None:
    """Merge one delivery into raw.<table> on the table's primary key, stamping `_load_id` and `_loaded_at`, and
    record each delivered table's load in the ledger (unpublished, as an extract leaves it); the FX reference rates
    are written on the first load."""
    ensure_fx_rates(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists raw")
        for spec in RAW_TABLES:
            batch = tables.get(spec.name, spec.schema.empty_table()).select([c.name for c in spec.columns])
            batch = batch.cast(spec.schema)
            con.register("batch", batch)
            con.execute(
                f"create table if not exists raw.{spec.name} as "
                "select *, ''::varchar as _load_id, now()::timestamptz as _loaded_at from batch limit 0"
            )
            key = " and ".join(f"raw.{spec.name}.{k} = batch.{k}" for k in raw_table(spec.name).primary_key)
            con.execute(f"delete from raw.{spec.name} using batch where {key}")
            con.execute(f"insert into raw.{spec.name} select *, ?, ? from batch", [load_id, loaded_at])
            con.unregister("batch")
            if spec.name in tables:
                record_load(con, "test", spec.name, load_id, batch.num_rows, loaded_at)


def run_dbt(data_dir: Path, *args: str, run_settings: Mapping[str, str] | None = None) -> None:
    """`dbt <args>` on `data_dir/warehouse.duckdb` as the pipeline runs it: in this process, on the project parsed
    once per process (`parsed_manifest`, from the project's parse cache), with the data dir's build profile and the
    run settings (as_of_date, ...) as `--vars`, which the `run_setting` macro reads. Raises with dbt's output on
    failure."""
    settings = Settings.from_env({**os.environ, "C360_DATA_DIR": str(data_dir)})
    ensure_manifest(settings)  # the project's cache, parsed once for every worker (the others wait for it)
    manifest = parsed_manifest(DBT_PROJECT_DIR, write_dbt_profile(settings), project_parse_cache(dbt_project()))
    os.environ["C360_DATA_DIR"] = str(data_dir)  # stays set after the call, as before: later helpers read it
    args = [
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(write_dbt_build_profile(settings)),
        "--target-path", str(data_dir / "dbt_target"),
        "--log-path", str(data_dir / "dbt_logs"),
        "--no-send-anonymous-usage-stats",
        "--quiet",
    ]  # fmt: skip
    result = invoke_dbt(args, manifest, run_settings or {})
    if not result.success:
        failures = [
            f"{r.node.name}: {r.message}"
            for r in (result.result or [])
            if getattr(r, "status", "") in ("error", "fail")
        ]
        raise AssertionError(f"dbt {' '.join(args)} failed: {failures or result.exception}")


def copy_warehouse(src: Path, dst: Path) -> None:
    """Copy the warehouse file after a checkpoint: recent writes may still sit in the write-ahead log beside the
    file, and a plain copy would lose them."""
    checkpoint(src / "warehouse.duckdb")
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "warehouse.duckdb", dst / "warehouse.duckdb")
