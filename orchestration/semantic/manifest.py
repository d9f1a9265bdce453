"""The semantic manifest that describes the PUBLISHED marts file, and where it comes from.

MetricFlow reads metric definitions and table names from dbt's `semantic_manifest.json`. The pipeline's own parse
names the build warehouse (`"warehouse"."marts"."fct_orders"`); BI queries must read the published file, where every
mart is `"marts"."main"."<model>"`. So the semantic layer parses the same project under a second dbt target,
`published` (path = the published file, opened read-only; `generate_schema_name` puts every model in `main`), into its
own target dir under `$C360_DATA_DIR/semantic_layer/`. Parsing never opens a database, so it never waits on the
pipeline's lock; it runs again only when a dbt file changed (dbt's partial parse keeps that fast).
"""

from __future__ import annotations

from pathlib import Path

from metricflow_semantic_interfaces.protocols.semantic_manifest import SemanticManifest
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

from orchestration.config import Settings
from orchestration.transform.project import artifact_is_stale, published_dbt_cli


def semantic_layer_dir(settings: Settings) -> Path:
    return settings.data_dir / "semantic_layer"


def ensure_semantic_manifest(settings: Settings) -> Path:
    """`semantic_manifest.json` for the published file, parsed again only when a dbt file changed."""
    target_path = semantic_layer_dir(settings) / "target"
    manifest = target_path / "semantic_manifest.json"
    if artifact_is_stale(manifest):
        logs = semantic_layer_dir(settings) / "logs"
        published_dbt_cli(settings).cli(["--quiet", "parse", "--log-path", str(logs)], target_path=target_path).wait()
    return manifest


def load_semantic_manifest(path: Path) -> SemanticManifest:
    return parse_manifest_from_dbt_generated_manifest(manifest_json_string=path.read_text())
