"""dbt-duckdb plugin (profile `plugins:`) that creates `c360_keyring.c360_pseudonym` on dbt's DuckDB instance.

It runs where dbt runs (the run's process, orchestration/transform/in_process.py; a dbt process by hand) and reads
the key from that process's environment, by the same rule as Settings (`orchestration.config.pii_key`:
`C360_PII_KEY` / `C360_PII_KEY_FILE`): the key never passes through the profile, a dbt var or SQL text, so compiled
SQL, manifest.json, run_results.json and dbt's logs cannot hold it.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from orchestration.config import pii_key
from orchestration.pseudonyms import register_pseudonym_function


class Plugin(BasePlugin):
    """Once per dbt connection: the keyring is the DuckDB instance's, so every cursor dbt runs a model on sees it."""

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        key, _ = pii_key(os.environ)
        register_pseudonym_function(conn, key)
