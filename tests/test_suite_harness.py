"""The test suite's own harness: a missing PostgreSQL stops the session at once with one line on how to start it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from orchestration.config import REPO_ROOT
from tests.postgres_fixtures import START_HINT


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow  # two whole pytest sessions (~25 s): a check of the harness, not of the product
@pytest.mark.parametrize("workers", [[], ["-n", "1"]], ids=["one-process", "xdist-worker"])
def test_missing_postgres_stops_the_session_with_one_line_on_how_to_start_it(workers: list[str]) -> None:
    """Also under pytest-xdist (`make test`), where the check runs in each worker, not in the process that prints."""
    env = {**os.environ, "C360_TEST_PG_PORT": str(closed_port())}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_publish_postgres.py", "-p", "no:cacheprovider", *workers],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert output.count(f"Start it with: {START_HINT}") == 1, output
    # Stopped before the first test (one refused connect), not a connect timeout per test of that module.
    assert re.search(r"=+ no tests ran in [\d.]+s =+$", output.strip()), output
