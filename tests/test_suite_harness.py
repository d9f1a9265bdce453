"""The test suite's own harness: a missing PostgreSQL stops the session at once with one line on how to start it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from orchestration.config import REPO_ROOT
from tests.conftest import balanced_order, worksteal_shares
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
    # Stopped before the first test (one refused connect), not a connect timeout per test of that module. pytest adds
    # (h:mm:ss) to a session past 60 s: the import of the suite alone took 79 s on a busy host.
    assert re.search(r"=+ no tests ran in [\d.]+s( \(\d+:\d\d:\d\d\))? =+$", output.strip()), output


class _Item:
    """What `balanced_order` reads of a collected test: its fixtures and its `slow` marker."""

    def __init__(self, name: str, baseline: bool = False, slow: bool = False) -> None:
        self.name, self.fixturenames, self.slow = name, ["xs_baseline"] if baseline else [], slow or baseline

    def get_closest_marker(self, name: str) -> object | None:
        return object() if name == "slow" and self.slow else None


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_each_worker_starts_its_share_with_a_long_test_and_one_builds_the_baseline(workers: int) -> None:
    """xdist's worksteal gives worker k the k-th contiguous share of the order: the first baseline test starts the
    last share (its worker builds the baseline), every other share starts with a whole-pipeline test that needs none,
    and every share then holds some of the baseline tests."""
    items = (
        [_Item(f"fast{i}") for i in range(20)]
        + [_Item(f"base{i}", baseline=True) for i in range(8)]
        + [_Item(f"slow{i}", slow=True) for i in range(6)]
    )
    ordered = balanced_order(items, workers)  # type: ignore[arg-type]
    assert sorted(i.name for i in ordered) == sorted(i.name for i in items)
    sizes = worksteal_shares(len(items), workers)
    shares = [ordered[sum(sizes[:k]) : sum(sizes[: k + 1])] for k in range(workers)]
    assert [share[0].name for share in shares] == [f"slow{k}" for k in range(workers - 1)] + ["base0"]
    assert all(any(i.name.startswith("base") for i in share) for share in shares)
    for share in shares[:-1]:  # the others reach theirs after their long tests, once the baseline is built
        kinds = [i.name[:4] for i in share if not i.name.startswith("fast")]
        assert kinds == sorted(kinds, key=lambda kind: kind == "base"), kinds
