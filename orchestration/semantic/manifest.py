"""The semantic manifest that describes the PUBLISHED marts file, and where it comes from.

MetricFlow reads metric definitions and table names from dbt's `semantic_manifest.json`. The pipeline's own parse
names the build warehouse (`"warehouse"."marts"."fct_orders"`); BI queries must read the published file, where every
mart is `"marts"."main"."<model>"`. So the semantic layer parses the same project under a second dbt target,
`published` (`generate_schema_name` puts every model in `main`). Those names are the same for every data dir (the
database is named after the file, `published/marts.duckdb` in each), so the parse is the project's, like its
manifest: in `dbt_project/target/published/`, its profile's path relative to a data dir, parsed once when a dbt file
changed (dbt's partial parse keeps that fast), whichever data dir asks first. A new data dir (a test's copy, a
restored backup) does not parse the project again (~11 s). Parsing never opens a database, so it never waits on the
pipeline's lock.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from metricflow_semantic_interfaces.protocols.semantic_manifest import SemanticManifest
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

from orchestration.transform.project import artifact_is_stale, dbt_project, project_target_dir, published_parse_cli


def semantic_layer_dir() -> Path:
    """The published target's parse: its target dir, its profile and its log, beside the project's own manifest."""
    return project_target_dir(dbt_project()) / "published"


def ensure_semantic_manifest() -> Path:
    """`semantic_manifest.json` for the published file, parsed again only when a dbt file changed; under an exclusive
    lock, so processes that start together (a CLI query, the dashboard, a test session's workers) parse once."""
    folder = semantic_layer_dir()
    target_path = folder / "target"
    manifest = target_path / "semantic_manifest.json"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if artifact_is_stale(manifest):
            cli = published_parse_cli(folder / "profile")
            cli.cli(["--quiet", "parse", "--log-path", str(folder / "logs")], target_path=target_path).wait()
    return manifest


def load_semantic_manifest(path: Path) -> SemanticManifest:
    return parse_manifest_from_dbt_generated_manifest(manifest_json_string=path.read_text())
