"""The dbt docs site of the published marts: `make docs` builds it, then serves it on 127.0.0.1.

Built under the `published` target (orchestration.transform.project.published_profile): the catalog (column types,
row counts) is read from the published file, read-only, so building the docs never waits on or blocks a running
pipeline's lock on the build warehouse. `--no-compile`: compiling would run models' introspective queries
(dim_date's date spine reads int_date_bounds) against a file that holds only the marts. The site, its manifest and
catalog go to `$C360_DATA_DIR/docs/target`, never to dbt_project/target (the manifest Dagster reads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dagster_dbt.errors import DagsterDbtCliRuntimeError

from orchestration.config import Settings
from orchestration.transform.project import published_dbt_cli

DEFAULT_DOCS_PORT = 8580


class NothingPublishedError(RuntimeError):
    """The docs' catalog is read from the published file, which does not exist yet."""


class DocsBuildError(RuntimeError):
    """dbt failed building the site: one line with dbt's error and where its log is."""


@dataclass(frozen=True)
class DocsSite:
    target_path: Path
    documented_tables: int

    @property
    def index(self) -> Path:
        return self.target_path / "index.html"


def docs_dir(settings: Settings) -> Path:
    return settings.data_dir / "docs"


def build_docs(settings: Settings) -> DocsSite:
    """`dbt docs generate` into $C360_DATA_DIR/docs/target (index.html, static_index.html, manifest, catalog)."""
    if not settings.published_path.exists():
        raise NothingPublishedError(
            f"{settings.published_path} does not exist: run `make demo` (or `c360 run`) first, the docs' catalog "
            "is read from the published marts"
        )
    target_path = docs_dir(settings) / "target"
    logs = docs_dir(settings) / "logs"
    dbt = published_dbt_cli(settings)
    # `docs generate --no-compile` writes no manifest.json, which the site loads: `parse` writes it (and the partial
    # parse file the second command reuses).
    for command in (["parse"], ["docs", "generate", "--no-compile", "--static"]):
        try:
            dbt.cli(["--quiet", *command, "--log-path", str(logs)], target_path=target_path).wait()
        except DagsterDbtCliRuntimeError as exc:
            raise DocsBuildError(f"dbt {' '.join(command)} failed: {_dbt_error(exc)} (log: {logs}/dbt.log)") from exc
    catalog = json.loads((target_path / "catalog.json").read_text())
    return DocsSite(target_path=target_path, documented_tables=len(catalog["nodes"]))


def _dbt_error(exc: DagsterDbtCliRuntimeError) -> str:
    """The first line dbt logged as the error, else the exception's first line."""
    text = str(exc)
    parsed = text.split("Errors parsed from dbt logs:", 1)[-1]
    lines = [line.strip() for line in parsed.splitlines() if line.strip() and "Encountered an error" not in line]
    return lines[0] if lines else text.splitlines()[0]


def serve_command(settings: Settings, port: int) -> list[str]:
    """The `dbt docs serve` command line for the built site, bound to 127.0.0.1 only."""
    cli = published_dbt_cli(settings)
    return [
        cli.dbt_executable,
        *cli.global_config_flags,
        "docs",
        "serve",
        "--project-dir",
        str(cli.project_dir),
        "--profiles-dir",
        str(cli.profiles_dir),
        "--target",
        str(cli.target),
        "--target-path",
        str(docs_dir(settings) / "target"),
        "--log-path",
        str(docs_dir(settings) / "logs"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-browser",
    ]
