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

from pathlib import Path

from metricflow_semantic_interfaces.protocols.semantic_manifest import SemanticManifest
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

from orchestration.transform.project import dbt_project, parse_when_stale, project_target_dir, published_parse_cli


def semantic_layer_dir() -> Path:
    """The published target's parse: its target dir, its profile and its log, beside the project's own manifest."""
    return project_target_dir(dbt_project()) / "published"


def ensure_semantic_manifest() -> Path:
    """`semantic_manifest.json` for the published file, parsed again only when a dbt file changed (once for
    processes that start together: `parse_when_stale`)."""
    folder = semantic_layer_dir()
    return parse_when_stale(
        folder / "target" / "semantic_manifest.json",
        folder,
        lambda: published_parse_cli(folder / "profile"),
        folder / "target",
        "--log-path",
        str(folder / "logs"),
    )


def load_semantic_manifest(path: Path) -> SemanticManifest:
    return parse_manifest_from_dbt_generated_manifest(manifest_json_string=path.read_text())
