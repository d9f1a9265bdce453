"""What the published marts say about themselves: descriptions and keys, read from the dbt manifest.

BI tools show table and column comments as descriptions, and suggest joins from declared primary and foreign keys.
dbt already holds both: every published model documents its grain and columns in YAML, and its tests and `not_null`
constraints name the keys. The rule, applied to published models only ("not null": a `not_null` constraint, which
DuckDB enforces as the model is built, or a `not_null` test):

- primary key: a column with a `unique` test that is not null (several: the one another table's `relationships`
  test points at, else the first ending in `_key`, else the first in YAML order); without one, a
  `unique_combination_of_columns` whose columns are all not null;
- unique: every other `unique` column and `unique_combination_of_columns`;
- foreign key: a `relationships` test without a `where` filter, to a published model's primary or unique key.

Why not dbt's primary and foreign key `constraints` on the models themselves: the build warehouse rebuilds
dimensions with create-or-replace and incremental facts with delete+insert, and a DuckDB foreign key would stop a
referenced dimension from being dropped. The keys belong on the copies BI reads, which are written once per run
(publisher.py, pg_copy.py); both enforce them as they load, so a key the tests missed fails the publish instead of
reaching BI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

_KEY_TESTS = frozenset({"unique", "not_null", "relationships", "unique_combination_of_columns"})


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableDoc:
    """One published table's description, column descriptions (YAML order) and keys."""

    name: str
    description: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()

    def without_keys(self) -> TableDoc:
        """The same descriptions, no keys (C360_PUBLISH_FILE_KEYS=none)."""
        return replace(self, primary_key=(), unique_keys=(), foreign_keys=())

    def without_foreign_keys(self) -> TableDoc:
        """The same descriptions, primary and unique keys only (C360_PUBLISH_FILE_KEYS=primary)."""
        return replace(self, foreign_keys=())


#: `_publish_log` is written by the publishers (both targets), not by dbt: its docs live here.
PUBLISH_LOG_DOC = TableDoc(
    name="_publish_log",
    description="One row: the run that published these tables, when, their row counts and the checks that passed.",
    columns={
        "run_id": "Dagster run id of the run that published these tables.",
        "published_at": "When they were published (UTC).",
        "tables": "Row count per published table (JSON object).",
        "details": "Job, as-of date, data interval (first and last order day) and check summary (JSON).",
    },
)


@dataclass
class _Tests:
    unique: list[str] = field(default_factory=list)
    not_null: set[str] = field(default_factory=set)
    combinations: list[tuple[str, ...]] = field(default_factory=list)
    relationships: list[tuple[str, str, str]] = field(default_factory=list)  # column, to model, to field


def mart_docs(manifest: Mapping, published: Iterable[str]) -> dict[str, TableDoc]:
    """TableDoc per published model name, from the manifest's model nodes and the key tests attached to them."""
    published = set(published)
    models = {
        node["unique_id"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] in published
    }
    tests = {node["name"]: _Tests() for node in models.values()}
    for node in manifest["nodes"].values():
        _collect(node, models, tests)
    for node in models.values():
        tests[node["name"]].not_null |= {
            column["name"]
            for column in node["columns"].values()
            if any(constraint["type"] == "not_null" for constraint in column.get("constraints") or ())
        }
    referenced = {(model, column) for t in tests.values() for _, model, column in t.relationships}
    keys = {
        node["name"]: _keys(node, tests[node["name"]], {c for m, c in referenced if m == node["name"]})
        for node in models.values()
    }
    docs = {}
    for node in models.values():
        name = node["name"]
        primary, unique = keys[name]
        foreign = tuple(
            ForeignKey((column,), to_model, (to_field,))
            for column, to_model, to_field in tests[name].relationships
            if (to_field,) in (keys[to_model][0], *keys[to_model][1])
        )
        docs[name] = TableDoc(
            name=name,
            description=node["description"].strip(),
            columns={c["name"]: c["description"].strip() for c in node["columns"].values()},
            primary_key=primary,
            unique_keys=unique,
            foreign_keys=tuple(dict.fromkeys(foreign)),
        )
    return docs


def creation_order(docs: Mapping[str, TableDoc]) -> list[str]:
    """Table names with every referenced table before the tables referencing it (a foreign key needs its target)."""
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise ValueError(f"foreign keys form a cycle: {' -> '.join((*path, name))}")
        for fk in docs[name].foreign_keys:
            if fk.table != name:
                visit(fk.table, (*path, name))
        ordered.append(name)

    for name in sorted(docs):
        visit(name, ())
    return ordered


def _collect(node: Mapping, models: Mapping[str, Mapping], tests: dict[str, _Tests]) -> None:
    metadata = node.get("test_metadata") or {}
    kind = metadata.get("name")
    attached = models.get(node.get("attached_node") or "")
    if node["resource_type"] != "test" or kind not in _KEY_TESTS or attached is None:
        return
    found, kwargs, column = tests[attached["name"]], metadata.get("kwargs") or {}, node.get("column_name")
    if kind == "unique" and column:
        found.unique.append(column)
    elif kind == "not_null" and column:
        found.not_null.add(column)
    elif kind == "unique_combination_of_columns":
        found.combinations.append(tuple(kwargs["combination_of_columns"]))
    elif kind == "relationships" and column and not node["config"].get("where"):
        targets = [models[n]["name"] for n in node["depends_on"]["nodes"] if n in models and n != attached["unique_id"]]
        if len(targets) == 1:
            found.relationships.append((column, targets[0], kwargs["field"]))


def _keys(node: Mapping, tests: _Tests, referenced: set[str]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    order = list(node["columns"])
    candidates = sorted(
        (c for c in dict.fromkeys(tests.unique) if c in tests.not_null),
        key=lambda c: (c not in referenced, not c.endswith("_key"), order.index(c) if c in order else len(order)),
    )
    combos = list(dict.fromkeys(tests.combinations))
    primary: tuple[str, ...] = ()
    if candidates:
        primary = (candidates[0],)
    else:
        primary = next((combo for combo in combos if all(c in tests.not_null for c in combo)), ())
    unique = [(c,) for c in dict.fromkeys(tests.unique)] + combos
    return primary, tuple(key for key in dict.fromkeys(unique) if key != primary)
