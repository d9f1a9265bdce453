"""`make docs` (`c360 docs`): the dbt docs site of the published marts, its overview page, and the local server.
Built once from a copy of the session's clean run's published file (the catalog reads its tables): the same build
proves the site works and that every published column is documented."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.config import DBT_PROJECT_DIR, Settings
from orchestration.publish.publisher import PUBLISH_LOG, published_tables
from orchestration.transform.docs_site import DocsSite, NothingPublishedError, build_docs, docs_dir, serve_command
from orchestration.warehouse import connect_published
from tests.conftest import Baseline, built_once


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, xs_baseline: Baseline) -> Settings:
    def build(root: Path) -> None:
        """The baseline's published file, and the site built while a BI tool holds it open read-only (a read-write
        open by dbt would fail on the lock)."""
        settings = Settings.from_env({"C360_DATA_DIR": str(root / "data")})
        shutil.copytree(xs_baseline.settings.published_path.parent, settings.published_path.parent)
        with connect_published(settings.published_path):
            build_docs(settings)

    root = built_once(tmp_path_factory, "docs_site", build)  # one build, whichever worker runs these tests
    return Settings.from_env({"C360_DATA_DIR": str(root / "data")})


@pytest.fixture(scope="module")
def site(settings: Settings) -> DocsSite:
    target = docs_dir(settings) / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    return DocsSite(target_path=target, documented_tables=len(catalog["nodes"]))


def test_docs_parse_is_the_published_targets_and_stays_in_the_data_dir(site: DocsSite) -> None:
    """The site's manifest names the published file's relations; the one Dagster reads still names the warehouse."""
    node = json.loads((site.target_path / "manifest.json").read_text())["nodes"]["model.c360.fct_orders"]
    assert (node["database"], node["schema"]) == ("marts", "main")
    pipeline_manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if pipeline_manifest.exists():
        node = json.loads(pipeline_manifest.read_text())["nodes"]["model.c360.fct_orders"]
        assert (node["database"], node["schema"]) == ("warehouse", "marts")


def test_docs_build_writes_the_site_with_the_published_catalog(site: DocsSite, settings: Settings) -> None:
    assert site.target_path == settings.data_dir / "docs" / "target"
    assert site.index.exists() and (site.target_path / "static_index.html").exists()
    catalog = json.loads((site.target_path / "catalog.json").read_text())
    published = set(published_tables(settings.published_path)) - {PUBLISH_LOG}
    assert sorted(catalog["nodes"]) == sorted(f"model.c360.{name}" for name in published)  # the published file's
    assert catalog["nodes"]["model.c360.dim_date"]["metadata"]["schema"] == "main"


def test_every_published_model_states_its_grain_and_documents_every_built_column(site: DocsSite) -> None:
    """The catalog (the columns really in the published file) against the YAML: a description for every column of
    every published model, none for a column that is not built, and the grain in the model's description."""
    manifest = json.loads((site.target_path / "manifest.json").read_text())
    catalog = json.loads((site.target_path / "catalog.json").read_text())
    for uid in sorted(catalog["nodes"]):
        node = manifest["nodes"][uid]
        assert "one row per" in node["description"].lower(), f"{node['name']}: description must state the grain"
        built = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        documented = {c for c, col in node["columns"].items() if col.get("description")}
        assert built == documented, f"{node['name']}: undocumented {built - documented}, stale {documented - built}"


def test_docs_overview_page_is_the_projects(site: DocsSite) -> None:
    manifest = json.loads((site.target_path / "manifest.json").read_text())
    overview = manifest["docs"]["doc.c360.__overview__"]["block_contents"]
    for heading in ("## Data flow", "## Marts (what BI reads)", "## How to connect", "## Metrics"):
        assert heading in overview
    assert "read_only=True" in overview and "c360 metrics" in overview
    assert "How to connect" in (site.target_path / "static_index.html").read_text()  # the one-file site carries it
    metrics = json.loads((site.target_path / "semantic_manifest.json").read_text())["metrics"]
    assert [m["name"] for m in metrics if f"`{m['name']}`" not in overview and m["name"] in KEY_METRICS] == []


KEY_METRICS = {"revenue", "orders", "average_order_value", "retention_rate", "roas", "customer_acquisition_cost"}


def test_docs_need_a_published_file(tmp_path: Path) -> None:
    with pytest.raises(NothingPublishedError, match="run `make demo`"):
        build_docs(Settings.from_env({"C360_DATA_DIR": str(tmp_path)}))


@pytest.fixture
def free_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port


def _sigterm_stops_the_server() -> None:
    """In the child, before exec: an ignored signal stays ignored across exec, and a Dagster run in this worker sets
    SIGTERM to whatever SIGINT does, which a shell's background job (e.g. `make test &`) ignores."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def test_docs_serve_on_localhost(site: DocsSite, settings: Settings, free_port: int) -> None:
    command = serve_command(settings, free_port)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_sigterm_stops_the_server
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{free_port}/index.html", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "dbt docs serve did not come up"
                time.sleep(0.5)
        assert "dbt" in page.lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{free_port}/catalog.json", timeout=5) as response:
            assert "model.c360.dim_date" in json.loads(response.read())["nodes"]
    finally:
        server.terminate()
        server.wait(timeout=30)
