"""Run a command and measure its whole process tree: wall time, CPU time and peak memory summed over every process.

Linux only, from `/proc` (no third-party dependency, so the runtime environment gains nothing for the benchmark):

- peak memory: every `interval` seconds (default 0.1 s, ~10 Hz) the tree under the child is found from each process's
  parent id in `/proc/<pid>/stat`, and the resident set sizes (`/proc/<pid>/statm`) are summed. The peak of that sum
  is the tree's peak; the peak of the largest single process is kept too (what issue 12's first table reports).
  RSS counts pages shared between processes (the Python interpreter, shared libraries) once per process, so the sum
  slightly over-states the tree's real footprint; a spike shorter than the interval can be missed.
- CPU time: user + system time of every descendant the command reaped, from `getrusage(RUSAGE_CHILDREN)` before
  and after (exact, no sampling), so run one measurement at a time per process.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    """What one command cost. Bytes and seconds; `samples` is how many times the tree was read."""

    command: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_tree_rss_bytes: int
    peak_process_rss_bytes: int
    peak_processes: int
    samples: int

    def as_dict(self) -> dict:
        return asdict(self)


def _parent_ids() -> dict[int, int]:
    """pid -> parent pid for every process now visible in /proc."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read()
        except OSError:  # exited between listing and reading
            continue
        # the command name (field 2) may hold spaces and parentheses: split after its last ')'
        fields = text[text.rfind(b")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def process_tree(root: int) -> list[int]:
    """`root` and all of its live descendants."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parent_ids().items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def rss_bytes(pid: int) -> int:
    """Resident set size of one process, 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def terminate_tree(root: int, grace: float = 10.0) -> None:
    """SIGTERM `root` and its descendants, then SIGKILL whatever is left after `grace` seconds; return once every
    process of the tree is gone (a SIGKILL is delivered asynchronously too, so it is waited for as well)."""
    tree = process_tree(root)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(pid) for pid in tree):
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


class TreeSampler:
    """Samples the tree under `root` on a background thread until `stop()`; keeps the peaks."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        self.root = root
        self.interval = interval
        self.peak_tree_rss = 0
        self.peak_process_rss = 0
        self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"tree-sampler-{root}", daemon=True)

    def sample(self) -> None:
        sizes = [rss_bytes(pid) for pid in process_tree(self.root)]
        sizes = [size for size in sizes if size]
        if not sizes:
            return
        self.samples += 1
        self.peak_tree_rss = max(self.peak_tree_rss, sum(sizes))
        self.peak_process_rss = max(self.peak_process_rss, max(sizes))
        self.peak_processes = max(self.peak_processes, len(sizes))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    log: Path | None = None,
    interval: float = 0.1,
) -> Measurement:
    """Run `command` to completion (stdout and stderr to `log`, else discarded) and measure its process tree."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    try:
        process = subprocess.Popen(list(command), env=dict(env) if env else None, cwd=cwd, stdout=out, stderr=out)
        sampler = TreeSampler(process.pid, interval).start()
        try:
            returncode = process.wait()
        except BaseException:  # interrupted (Ctrl-C, SIGTERM made SystemExit): leave no orphaned run behind
            terminate_tree(process.pid)
            raise
        finally:
            sampler.stop()
    finally:
        if log:
            out.close()
    return Measurement(
        command=[str(part) for part in command],
        returncode=returncode,
        wall_s=time.perf_counter() - started,
        cpu_s=_children_cpu_seconds() - cpu_before,
        peak_tree_rss_bytes=sampler.peak_tree_rss,
        peak_process_rss_bytes=sampler.peak_process_rss,
        peak_processes=sampler.peak_processes,
        samples=sampler.samples,
    )
