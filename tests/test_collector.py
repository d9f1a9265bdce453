"""The garbage collector's policy in a `c360` process (c360_cli/collector.py): the launcher starts a command with
the collector off, the command freezes what its imports left and collects with larger thresholds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from c360_cli import launcher
from c360_cli.collector import THRESHOLDS
from orchestration.config import REPO_ROOT

#: What the launcher does once its checks pass: here in a subprocess, so the probe has a fresh interpreter.
RUN_PROBE = (
    "import sys; from c360_cli.collector import run_with_collector_off; "
    "run_with_collector_off(sys.argv[1], sys.argv[2:])"
)


def test_a_command_imports_with_the_collector_off_then_freezes_its_imports_and_collects_with_the_thresholds() -> None:
    result = subprocess.run(
        [sys.executable, "-c", RUN_PROBE, "tests.collector_probe", "run", "--as-of", "2026-10-31"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["enabled_at_import"] is False
    assert report["argv"] == ["run", "--as-of", "2026-10-31"]  # the module's own arguments, as `python -m` gives them
    assert report["enabled"] is True and report["thresholds"] == list(THRESHOLDS)
    assert report["frozen"] > 1000  # the interpreter's and the imports' objects
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("argv", "module"), [(["generate", "--help"], "c360_cli.main"), (["run", "--help"], "c360_cli.run")]
)
def test_the_launcher_runs_the_command_module_in_the_launchers_process(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], module: str
) -> None:
    ran: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(launcher, "run_with_collector_off", lambda module, args: ran.append((module, args)))
    assert launcher.main(argv) == 0
    assert ran == [(module, argv)]
