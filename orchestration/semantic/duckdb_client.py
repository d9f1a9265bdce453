"""MetricFlow's SqlClient over the published DuckDB file, opened the way BI tools open it.

Why not MetricFlow's own dbt-adapter client: dbt-duckdb always opens its `path` read-write (it takes the file's write
lock, which a publish swap or a second reader would then wait on) and can reach other files. This client opens each
query's connection through `orchestration.warehouse.connect_published`: read-only, no external access, closed after
the query, so an `os.replace` by the next publish is never blocked and the next query sees the new file.
"""

from __future__ import annotations

from pathlib import Path

from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from orchestration.warehouse import connect_published

#: MetricFlow's protocol defaults to an empty parameter set.
NO_PARAMETERS = SqlBindParameterSet()


class ReadOnlyWriteError(RuntimeError):
    """MetricFlow asked to write (e.g. a query with an output table): the published file is read-only."""


class PublishedDuckDbClient:
    """Implements metricflow.protocols.sql_client.SqlClient for the published marts file."""

    def __init__(self, published_path: Path) -> None:
        self._path = published_path
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return self._renderer

    def query(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> MetricFlowDataTable:
        with connect_published(self._path) as con:
            cursor = con.execute(stmt, _parameters(sql_bind_parameter_set))
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=rows)

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> None:
        raise ReadOnlyWriteError(f"the published marts file is read-only; MetricFlow asked to run: {stmt[:80]}")

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = NO_PARAMETERS) -> None:
        with connect_published(self._path) as con:
            con.execute(f"explain {stmt}", _parameters(sql_bind_parameter_set))

    def close(self) -> None:
        """Nothing to close: every query opens and closes its own connection."""

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _parameters(bind_parameters: SqlBindParameterSet) -> dict[str, object] | None:
    return dict(bind_parameters.param_dict) or None
