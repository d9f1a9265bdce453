"""`c360 metrics`: metric x dimension x time-grain queries against the published marts (MetricFlow, read-only)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from decimal import Decimal

from orchestration.config import Settings
from orchestration.semantic.query import MetricQueryError, MetricResult, PublishedFileMissingError, SemanticLayer


def add_metrics_parser(sub: argparse._SubParsersAction) -> None:
    metrics = sub.add_parser(
        "metrics",
        help="query the semantic layer's metrics on the published marts (MetricFlow, read-only)",
        description="e.g. c360 metrics revenue orders --by metric_time__month --by customer__rfm_segment",
    )
    metrics.add_argument("metric", nargs="*", help="metric names (see --list)")
    metrics.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="DIMENSION",
        help="group by a dimension, entity or time grain (metric_time__day|week|month|quarter|year); repeatable",
    )
    metrics.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="FILTER",
        help="MetricFlow filter, e.g. \"{{ Dimension('customer__rfm_segment') }} = 'Champions'\"; repeatable",
    )
    metrics.add_argument("--order", action="append", default=[], metavar="NAME", help="order by (prefix - for desc)")
    metrics.add_argument("--limit", type=int)
    metrics.add_argument("--list", action="store_true", help="list the metrics with their definitions and dimensions")
    metrics.add_argument("--sql", action="store_true", help="also print the SQL MetricFlow ran")
    metrics.set_defaults(func=cmd_metrics)


def cmd_metrics(args: argparse.Namespace, settings: Settings) -> int:
    if not args.list and not args.metric:
        print("c360 metrics: name at least one metric (c360 metrics --list shows them)", file=sys.stderr)
        return 2
    try:
        layer = SemanticLayer(settings)
    except PublishedFileMissingError as exc:
        print(f"c360 metrics: {exc}", file=sys.stderr)
        return 1
    if args.list:
        for metric in layer.metrics():
            print(f"{metric.name:32} {metric.label}: {metric.description}")
        return 0
    try:
        result = layer.query(args.metric, group_by=args.by, where=args.where, order_by=args.order, limit=args.limit)
    except MetricQueryError as exc:
        print(f"c360 metrics: {exc}", file=sys.stderr)
        return 2
    if args.sql:
        print(result.sql, end="\n\n")
    print(format_table(result))
    return 0


def format_table(result: MetricResult) -> str:
    """A plain text table: numbers right-aligned, one header line, one line per row."""
    cells = [[_format_cell(value) for value in row] for row in result.rows]
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in result.rows)
        for i in range(len(result.columns))
    ]
    widths = [max([len(name)] + [len(row[i]) for row in cells]) for i, name in enumerate(result.columns)]
    lines = [_join(result.columns, widths, numeric), _join(["-" * width for width in widths], widths, numeric)]
    lines += [_join(row, widths, numeric) for row in cells]
    lines.append(f"({len(cells)} rows)")
    return "\n".join(lines)


def _join(values: Sequence[str], widths: Sequence[int], numeric: Sequence[bool]) -> str:
    return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)).rstrip()


def _format_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, float | Decimal) and not isinstance(value, bool):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return str(value)
