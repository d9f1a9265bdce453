"""The dbt project's house rules, checked on the parsed manifest (target/manifest.json) and the project's files.

Each rule names the offending nodes, so a failure says what to fix. The manifest is parsed on demand (only when a
dbt file is newer than it), so this module costs one `dbt parse` at most.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestration.config import DBT_PROJECT_DIR, Settings
from orchestration.transform.project import ensure_manifest

MODELS_DIR = Path(DBT_PROJECT_DIR) / "models"
MACROS_DIR = Path(DBT_PROJECT_DIR) / "macros"
#: Every model built into this schema is published (orchestration/publish reads the same rule from the manifest).
PUBLISHED_SCHEMA = "marts"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings.from_env({"C360_DATA_DIR": str(tmp_path_factory.mktemp("dbt_rules"))})
    return json.loads(ensure_manifest(settings).read_text())


def _project_nodes(manifest: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    project = manifest["metadata"]["project_name"]
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == resource_type and node["package_name"] == project
    }


def _layer(node: dict[str, Any]) -> str:
    """staging / intermediate / marts: the first folder under models/."""
    return Path(node["original_file_path"]).parts[1]


def test_intermediate_models_read_only_staging_and_intermediate(manifest: dict[str, Any]) -> None:
    models = _project_nodes(manifest, "model")
    offenders = [
        f"{node['name']} -> {models[parent]['name']}"
        for node in models.values()
        if _layer(node) == "intermediate"
        for parent in node["depends_on"]["nodes"]
        if parent in models and _layer(models[parent]) == "marts"
    ]
    assert not offenders, f"intermediate models reading marts (move the shared logic into an int_ model): {offenders}"


def test_staging_models_read_only_sources(manifest: dict[str, Any]) -> None:
    models = _project_nodes(manifest, "model")
    offenders = [
        f"{node['name']} -> {parent}"
        for node in models.values()
        if _layer(node) == "staging"
        for parent in node["depends_on"]["nodes"]
        if not parent.startswith("source.")
    ]
    assert not offenders, f"staging models reading anything but sources: {offenders}"


def test_marts_live_in_domain_folders(manifest: dict[str, Any]) -> None:
    flat = [
        node["name"]
        for node in _project_nodes(manifest, "model").values()
        if _layer(node) == "marts" and len(Path(node["original_file_path"]).parts) < 4
    ]
    assert not flat, f"marts directly under models/marts/ (put them in a domain folder): {flat}"


def test_one_yaml_file_per_folder() -> None:
    """`_<folder>__models.yml` (and `_<source>__sources.yml`) per folder, plus a mart folder's semantic models and
    metrics in `_<folder>__semantic.yml`; no per-model YAML files."""
    offenders = []
    for path in MODELS_DIR.rglob("*.yml"):
        folder = path.parent.name
        allowed = [f"_{folder}__models.yml", f"_{folder}__sources.yml"]
        if path.parent.parent == MODELS_DIR / "marts":
            allowed.append(f"_{folder}__semantic.yml")
        if path.name not in allowed:
            offenders.append(str(path.relative_to(DBT_PROJECT_DIR)))
    assert not offenders, f"YAML files not named _<folder>__models|sources|semantic.yml: {offenders}"


#: An import CTE: `name as (` then `select * from {{ ref('model') }}` or `{{ this }}` (a filter may follow).
IMPORT_CTE = re.compile(r"^(\w+) as \(\s*select \* from \{\{ (?:ref\('\w+'\)|this) \}\}", re.MULTILINE)


def test_an_import_cte_read_more_than_once_is_read_in_place() -> None:
    """DuckDB materializes a CTE referenced more than once: a full copy of every column of the table before any
    reader filters it (at L, most of int_web_sessions_by_device's cost). Such a CTE takes `{{ read_in_place() }}`
    (`name as {{ read_in_place() }} (`), which reads the table in place in each reader."""
    offenders = []
    for path in sorted(MODELS_DIR.rglob("*.sql")):
        sql = path.read_text()
        for match in IMPORT_CTE.finditer(sql):
            name = match.group(1)
            if len(re.findall(rf"\b(?:from|join)\s+{name}\b", sql)) > 1:
                offenders.append(f"{path.relative_to(DBT_PROJECT_DIR)}: {name}")
    assert not offenders, f"import CTEs read more than once without read_in_place: {offenders}"


def test_every_model_is_documented(manifest: dict[str, Any]) -> None:
    undocumented = [node["name"] for node in _project_nodes(manifest, "model").values() if not node["description"]]
    assert not undocumented, f"models without a description: {undocumented}"


def test_every_macro_and_argument_documented() -> None:
    """macros/_macros.yml documents every macro and generic test with all its arguments."""
    documented = {
        macro["name"]: {argument["name"] for argument in macro.get("arguments", [])}
        for macro in yaml.safe_load((MACROS_DIR / "_macros.yml").read_text())["macros"]
        if macro.get("description")
    }
    problems = []
    sources = [*MACROS_DIR.rglob("*.sql"), *(Path(DBT_PROJECT_DIR) / "tests" / "generic").rglob("*.sql")]
    for path in sources:
        for kind, name, args in re.findall(r"{%-?\s*(macro|test)\s+(\w+)\s*\(([^)]*)\)", path.read_text()):
            name = f"test_{name}" if kind == "test" else name  # dbt registers generic tests as test_<name> macros
            if name.startswith("default__"):  # dispatch implementations share their dispatcher's documentation
                continue
            arguments = {arg.split("=")[0].strip() for arg in args.split(",") if arg.strip()}
            if name not in documented:
                problems.append(f"{name}: not in macros/_macros.yml")
            elif arguments - documented[name]:
                problems.append(f"{name}: arguments {sorted(arguments - documented[name])} undocumented")
    assert not problems, problems


def test_no_concatenated_uniqueness_keys(manifest: dict[str, Any]) -> None:
    """A concatenated key (a || '|' || b) is null when any part is, and unique passes nulls: use
    unique_combination_of_columns, which fails on duplicates and on null key parts."""
    offenders = []
    for node in _project_nodes(manifest, "test").values():
        metadata = node.get("test_metadata") or {}
        column = node.get("column_name") or metadata.get("kwargs", {}).get("column_name") or ""
        if metadata.get("name") == "unique" and re.search(r"\|\||concat|[*+(]", column):
            offenders.append(f"{node['name']}: {column}")
    assert not offenders, offenders


def test_every_test_is_an_asset_check(manifest: dict[str, Any]) -> None:
    """dagster-dbt turns a test into an asset check only when it knows the model it belongs to: a generic test's
    attached node, a singular test's one parent, or `meta.dagster.ref` naming a model it reads. Otherwise the
    result is logged as an AssetObservation and the run report never counts it."""
    unattached = []
    for node in _project_nodes(manifest, "test").values():
        parents = set(node["depends_on"]["nodes"])
        ref = ((node.get("config") or {}).get("meta") or {}).get("dagster", {}).get("ref", {})
        if node.get("attached_node") or len(parents) == 1:
            continue
        if not ref or not any(parent.split(".")[-1] == ref.get("name") for parent in parents):
            unattached.append(node["name"])
    assert not unattached, f"tests without a model to attach to (config meta.dagster.ref): {unattached}"


def test_published_marts_enforce_their_contract(manifest: dict[str, Any]) -> None:
    problems = []
    for node in _project_nodes(manifest, "model").values():
        if node["schema"] != PUBLISHED_SCHEMA:
            continue
        if not node["config"].get("contract", {}).get("enforced"):
            problems.append(f"{node['name']}: contract not enforced")
        untyped = [name for name, column in node["columns"].items() if not column.get("data_type")]
        if untyped:
            problems.append(f"{node['name']}: columns without data_type {untyped}")
    assert not problems, problems


def test_published_marts_declare_not_null_as_a_constraint(manifest: dict[str, Any]) -> None:
    """On a contracted mart, DuckDB enforces a `not_null` constraint as the model is built (the build fails, so
    nothing downstream runs and nothing is published); a `not_null` test would re-read the table afterwards, one
    more dbt node (~25 ms of every run) for the same guarantee."""
    marts = {uid for uid, node in _project_nodes(manifest, "model").items() if node["schema"] == PUBLISHED_SCHEMA}
    tested = sorted(
        f"{node['attached_node'].split('.')[-1]}.{node['column_name']}"
        for node in _project_nodes(manifest, "test").values()
        if (node.get("test_metadata") or {}).get("name") == "not_null" and node.get("attached_node") in marts
    )
    assert not tested, f"not_null tests on published marts (declare `constraints: [{{type: not_null}}]`): {tested}"


def test_a_model_tests_its_not_null_columns_in_one_test(manifest: dict[str, Any]) -> None:
    """Every dbt node costs every run ~50 ms of dbt's own Python, whatever the table's size: a key column has one
    `primary_key` test (not `unique` + `not_null`), and a model with several not-null columns lists them in one
    `not_null_columns` test (not one `not_null` test each)."""
    generic: dict[str, dict[str, list[str]]] = {}
    for node in _project_nodes(manifest, "test").values():
        name, column = (node.get("test_metadata") or {}).get("name"), node.get("column_name")
        if name in ("unique", "not_null") and column:
            generic.setdefault(node["attached_node"].split(".")[-1], {}).setdefault(name, []).append(column)
    pairs = sorted(
        f"{m}.{c}" for m, t in generic.items() for c in set(t.get("unique", ())) & set(t.get("not_null", ()))
    )
    several = sorted(m for m, t in generic.items() if len(t.get("not_null", ())) > 1)
    assert not pairs, f"`unique` + `not_null` on one column (use `primary_key`): {pairs}"
    assert not several, f"several `not_null` tests on one model (use one `not_null_columns`): {several}"


def test_published_marts_declare_value_rules_as_check_constraints(manifest: dict[str, Any]) -> None:
    """As with not-null: on a contracted mart rebuilt each run, DuckDB enforces a `check` constraint as the model is
    built, so an `expression_is_true` or literal `accepted_values` test would be one more dbt node re-reading the
    table for the same guarantee. Incremental marts keep theirs as tests: a table built before a constraint was
    added keeps the old DDL until a full refresh, and their tests check the run's window. Values rendered from a
    var (the declared ad platforms, the audiences) stay tests."""
    marts = {
        uid
        for uid, node in _project_nodes(manifest, "model").items()
        if node["schema"] == PUBLISHED_SCHEMA and node["config"]["materialized"] == "table"
    }
    tested = sorted(
        f"{node['attached_node'].split('.')[-1]}: {node['name']}"
        for node in _project_nodes(manifest, "test").values()
        if node.get("attached_node") in marts
        and (
            (metadata := node.get("test_metadata") or {}).get("name") == "expression_is_true"
            or (metadata.get("name") == "accepted_values" and isinstance(metadata["kwargs"].get("values"), list))
        )
    )
    assert not tested, f"value tests on published marts (declare `constraints: [{{type: check, ...}}]`): {tested}"
