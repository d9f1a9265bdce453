"""Metric x dimension x time-grain queries against the published marts, answered by MetricFlow.

The metric definitions are the dbt project's (`dbt_project/models/marts/*/_<domain>__semantic.yml`); MetricFlow plans
the SQL (joins through entities, ratios from summed numerators and denominators) and the published file answers it,
read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow_semantics.errors.error_classes import InvalidQueryException
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

from orchestration.config import Settings
from orchestration.semantic.duckdb_client import PublishedDuckDbClient
from orchestration.semantic.manifest import ensure_semantic_manifest, load_semantic_manifest


class PublishedFileMissingError(RuntimeError):
    """Nothing is published yet: there is no file to query."""


class MetricQueryError(ValueError):
    """A query MetricFlow cannot resolve (unknown metric or dimension, no join path): one line with its suggestions."""


@dataclass(frozen=True)
class MetricResult:
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    sql: str


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    description: str
    dimensions: tuple[str, ...]


class SemanticLayer:
    """MetricFlow's engine over the published file; build once, query many times."""

    def __init__(self, settings: Settings) -> None:
        if not settings.published_path.exists():
            raise PublishedFileMissingError(
                f"{settings.published_path} does not exist: nothing is published yet (run `c360 demo` or `c360 run`)"
            )
        manifest = load_semantic_manifest(ensure_semantic_manifest())
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(manifest),
            sql_client=PublishedDuckDbClient(settings.published_path),
        )

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> MetricResult:
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
            order_by_names=list(order_by) or list(group_by) or None,
            limit=limit,
        )
        try:
            result = self._engine.query(request)
        except InvalidQueryException as exc:
            raise MetricQueryError(one_line_query_error(str(exc))) from exc
        table = result.result_df
        assert table is not None  # a query without an output table always returns its rows
        return MetricResult(
            columns=tuple(table.column_names), rows=tuple(tuple(row) for row in table.rows), sql=result.sql
        )

    def metrics(self) -> list[MetricInfo]:
        return [
            MetricInfo(
                name=metric.name,
                label=metric.label or metric.name,
                description=" ".join((metric.description or "").split()),
                dimensions=tuple(dimension.qualified_name for dimension in metric.dimensions),
            )
            for metric in sorted(self._engine.list_metrics(), key=lambda metric: metric.name)
        ]


def one_line_query_error(text: str) -> str:
    """MetricFlow's first resolution error (a multi-line report) as: message: 'input' (did you mean: a, b, c)."""
    first = text.split("Error #2:", 1)[0]
    sections = {"Message": "", "Suggestions": "", "Query Input": "", "Issue Location": ""}
    current = None
    for line in first.splitlines():
        heading = line.strip().rstrip(":")
        if heading in sections and line.strip().endswith(":"):
            current = heading
        elif current and line.strip():
            sections[current] += " " + line.strip()
    message = sections["Message"].strip().split(" Common issues are:")[0] or text.splitlines()[0]
    suggestions = [item.strip(" '[],") for item in sections["Suggestions"].split(",")]
    suggested = ", ".join(item for item in suggestions if item)[:200]
    query_input = sections["Query Input"].strip()
    return f"{message.rstrip('.')}: {query_input!r}" + (f" (did you mean: {suggested})" if suggested else "")
