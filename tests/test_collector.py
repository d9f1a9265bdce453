"""The garbage collector's policy in a `c360` process (c360_cli/collector.py): the launcher starts a command with
the collector off, the command freezes what its imports left and collects with larger thresholds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from c360_cli import launcher
from c360_cli.collector import STARTUP, THRESHOLDS
from orchestration.config import REPO_ROOT


class Execed(Exception):
    """Raised instead of replacing the test process."""


def test_a_command_imports_with_the_collector_off_then_freezes_its_imports_and_collects_with_the_thresholds() -> None:
    result = subprocess.run(
        [sys.executable, "-c", STARTUP, "tests.collector_probe", "run", "--as-of", "2026-10-31"],
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
def test_the_launcher_starts_each_command_through_the_startup_line(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], module: str
) -> None:
    execed: list[list[str]] = []

    def execv(path: str, args: list[str]) -> None:
        execed.append([path, *args])
        raise Execed

    monkeypatch.setattr(launcher.os, "execv", execv)
    with pytest.raises(Execed):
        launcher.main(argv)
    assert execed == [[sys.executable, sys.executable, "-c", STARTUP, module, *argv]]
