"""The Dagster event log of CLI runs and `make ui`: Dagster's per-run SQLite storage, with connections kept open.

Why: Dagster's `SqliteEventLogStorage` opens a new engine and connection for every event (NullPool). In WAL mode the
close of the last connection checkpoints the WAL into the database, and every commit fsyncs (synchronous=FULL), so
each event costs several fsyncs: the ~400 events Dagster writes before the first step (one per planned asset
materialisation and asset check) took ~30 s on a busy 2-core machine, ~2 s with this class.

What changes: one engine per database file (per run, plus the index), its connection reused, answers about the
storage's own schema that cannot turn false again (a table, a column, a completed data migration) remembered instead
of asked per event, and `synchronous=NORMAL`, SQLite's recommended setting for WAL: a commit survives a crash of this
process; a power loss can lose the last commits but never corrupts the file. The schema, files and locations are
Dagster's own, so `make ui` (webserver, daemon) reads the same history. Because the database file itself now changes
only at a checkpoint, the run's database is checkpointed at most once a second and at every step boundary, so a
webserver watching the run (it watches the file) still sees it progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetKeyTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.pool import QueuePool

_CHECKPOINT_EVERY_SECONDS = 1.0
_STEP_BOUNDARIES = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
    DagsterEventType.RUN_START,
    DagsterEventType.RUN_SUCCESS,
    DagsterEventType.RUN_FAILURE,
}


def _remembered_yes(known: set[str], name: str, ask: Callable[[str], bool]) -> bool:
    """`ask(name)` until it says yes, then yes from `known` without asking: for facts about the storage's own schema
    that cannot turn false again (a table, a completed migration)."""
    if name in known:
        return True
    if ask(name):
        known.add(name)
        return True
    return False


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one pooled engine per shard and synchronous=NORMAL (see the module docstring)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, sa.Engine] = {}
        self._engines_lock = threading.Lock()
        self._last_checkpoint: dict[str, float] = {}
        self._tables_present: set[str] = set()
        self._asset_key_columns: set[str] = set()
        self._secondary_indexes: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: Any
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> sa.Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is None:
                engine = sa.create_engine(
                    self.conn_string_for_shard(shard),
                    poolclass=QueuePool,
                    pool_size=1,
                    max_overflow=4,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                sa.event.listen(engine, "connect", _on_connect)
                self._engines[shard] = engine
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before every asset-check event whether the index has a table, each time through a new
        engine and connection (~5 ms: ~2 s a run); a table that exists stays, so a yes is remembered."""
        return _remembered_yes(self._tables_present, table_name, self._index_has_table)

    def _index_has_table(self, table_name: str) -> bool:
        with self._engine(INDEX_SHARD_NAME).connect() as conn:
            return bool(conn.dialect.has_table(conn, table_name))

    def _has_asset_key_col_on_connection(self, conn: sa.Connection, column_name: str) -> bool:
        """Dagster reflects the asset_keys table's columns (SQLAlchemy's inspector, ~1.3 ms) two or three times per
        asset event, to learn whether a migration added a column (~440 times, ~0.5 s, in an XS run). A column that
        exists stays, so the columns seen are remembered and only an absent one is looked up again."""
        if column_name not in self._asset_key_columns:
            self._asset_key_columns.update(
                column["name"] for column in sa.inspect(conn).get_columns(AssetKeyTable.name)
            )
        return column_name in self._asset_key_columns

    def has_secondary_index(self, name: str) -> bool:
        """Dagster asks twice per asset-record read whether a data migration completed (~180 queries a run); a
        completed one stays completed, so a yes is remembered."""
        return _remembered_yes(self._secondary_indexes, name, super().has_secondary_index)

    def store_event(self, event: EventLogEntry) -> None:
        super().store_event(event)
        run_id = event.run_id
        now = time.monotonic()
        boundary = event.is_dagster_event and event.dagster_event_type in _STEP_BOUNDARIES
        if boundary or now - self._last_checkpoint.get(run_id, 0.0) >= _CHECKPOINT_EVERY_SECONDS:
            self._last_checkpoint[run_id] = now
            with self.run_connection(run_id) as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()
