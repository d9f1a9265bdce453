"""orchestration/warehouse.py applies the configured DuckDB settings and opens the published file as BI should."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments import Environment

from orchestration.config import Settings
from orchestration.transform.project import write_dbt_build_profile
from orchestration.warehouse import connect_file, connect_published, connect_warehouse


def test_warehouse_connections_use_the_configured_memory_threads_and_spill_dir(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"C360_DATA_DIR": str(tmp_path), "C360_DUCKDB_MEMORY_LIMIT": "1GB", "C360_DUCKDB_THREADS": "1"}
    )
    with connect_warehouse(settings) as con:
        con.execute("create table t as select 1 as x")
        limit, threads, temp, ordered = con.execute(
            "select current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory'), "
            "current_setting('preserve_insertion_order')"
        ).fetchone()
    assert (limit, threads, Path(temp), ordered) == ("953.6 MiB", 1, settings.duckdb_temp_dir, False)
    assert settings.warehouse_path.exists()


def test_the_build_profile_builds_as_many_models_at_once_as_c360_dbt_threads(tmp_path: Path) -> None:
    def threads(env: dict[str, str]) -> int:
        profile = write_dbt_build_profile(Settings.from_env({"C360_DATA_DIR": str(tmp_path), **env}))
        return yaml.safe_load((profile / "profiles.yml").read_text())["c360"]["outputs"]["duckdb"]["threads"]

    assert (threads({}), threads({"C360_DBT_THREADS": "1"})) == (2, 1)


def test_the_published_file_opens_read_only_without_access_to_other_files(tmp_path: Path) -> None:
    published, other = tmp_path / "marts.duckdb", tmp_path / "other.csv"
    other.write_text("secret\n1\n")
    with connect_file(published) as con:
        con.execute("create table mart as select 1 as x")
    with connect_published(published) as con:
        assert con.execute("select x from mart").fetchall() == [(1,)]
        with pytest.raises(duckdb.Error):
            con.execute("create table sneaky as select 1")
        with pytest.raises(duckdb.Error):
            con.execute(f"select * from read_csv('{other}')")


def test_dbt_keeps_working_after_a_query_spills_to_the_temp_directory(tmp_path: Path) -> None:
    """dbt-duckdb opens the database once (config_options) and a cursor per query (SETting `settings` on each); once a
    query has spilled, DuckDB refuses to set temp_directory again. The build profile must configure memory and the
    spill directory where they apply once, or every query after the first spill fails (the L build did)."""
    # one thread: what a query needs at least is then the same on every run (two threads failed once, on a busy host)
    env = {"C360_DATA_DIR": str(tmp_path), "C360_DUCKDB_MEMORY_LIMIT": "64MB", "C360_DUCKDB_THREADS": "1"}
    settings = Settings.from_env(env)
    profile = write_dbt_build_profile(settings) / "profiles.yml"
    output = yaml.safe_load(profile.read_text())["c360"]["outputs"]["duckdb"]
    credentials = DuckDBCredentials.from_dict({**output, "database": "warehouse", "schema": "main"})
    db = Environment.initialize_db(credentials)
    try:
        cursor = Environment.initialize_cursor(credentials, db.cursor())
        cursor.execute("create table spilled as select range as x, md5(range::varchar) as y from range(1500000)")
        cursor.execute("create table sorted as select * from spilled order by y")  # ~100 MB sorted in 64 MB
        # it spilled: DuckDB creates the spill directory at its first spill (and removes it when the database closes)
        assert settings.duckdb_temp_dir.is_dir()
        next_query = Environment.initialize_cursor(credentials, db.cursor())
        assert next_query.execute("select count(*) from sorted").fetchone() == (1_500_000,)
        assert next_query.execute("select current_setting('memory_limit')").fetchone() == ("61.0 MiB",)
    finally:
        db.close()
