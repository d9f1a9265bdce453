"""Run only the extract assets (every source system) on a data dir: fast checks of what lands in raw."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.config import Settings
from orchestration.extract.assets import definitions


@dataclass
class Extract:
    settings: Settings

    def run(self, *systems: str) -> dg.ExecuteInProcessResult:
        """Every extract asset, or only those of the named source systems (`crm`, `ga4`, `ads`): a test about CRM
        rows need not read and load the web and ad deliveries on every run."""
        defs = definitions(self.settings)
        chosen = {f"extract_{s}" for s in systems}
        assert chosen <= {a.op.name for a in defs.assets}, f"unknown source system in {systems}"
        assets = [a for a in defs.assets if not systems or a.op.name in chosen]
        return dg.materialize(assets, resources=defs.resources, raise_on_error=False)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.settings.warehouse_path), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def ledger(self) -> dict[str, tuple[int, int, int]]:
        """Newest load per table: (rows_extracted, rows_loaded, rows_quarantined)."""
        rows = self.query(
            "select table_name, rows_extracted, rows_loaded, rows_quarantined from audit.loads "
            "qualify row_number() over (partition by table_name order by load_id desc) = 1"
        )
        return {t: (e, lo, q) for t, e, lo, q in rows}


def settings_for(data_dir: Path, source: str) -> Settings:
    return Settings.from_env({**os.environ, "C360_DATA_DIR": str(data_dir), "C360_SOURCE": source})


def failure_messages(result: dg.ExecuteInProcessResult) -> str:
    """Every failed step's error chain as one text."""
    return "\n".join(e.step_failure_data.error.to_string() for e in result.get_step_failure_events())
