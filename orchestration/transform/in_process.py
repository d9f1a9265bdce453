"""dbt run inside this process, as dbt documents for programmatic invocations (`dbtRunner`, with the parsed
manifest reused across calls), behind the `subprocess.Popen` interface dagster-dbt's `DbtCliInvocation` reads.

Why: a dbt subprocess starts a whole dbt each run, importing dbt and its adapter (~3.5 s CPU) and reading and
checking the parse cache (~2 s), about a third of an XS run's dbt step. In this process dbt is imported once and the
project is parsed once (from the project's parse cache), then every run of the process reuses both: the daily run,
each day of a backfill, each run of a test session's worker.

dagster-dbt turns dbt's structured log (one JSON event per line, as `dbt --log-format json` prints it) into asset
materializations and check results; `InProcessDbt` writes the same lines to a pipe that dagster-dbt reads as the
process's stdout, so everything after the launch (events, errors, artifacts in the call's target path) is
dagster-dbt's own code.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest
from dbt_common.events.base_types import EventLevel, EventMsg
from dbt_common.events.functions import env_scrubber, msg_to_dict

from orchestration.transform.run_settings import settings_of_this_dbt_call

#: dbt's console level: dagster-dbt reads info and above from a dbt subprocess's stdout.
_FORWARDED_LEVELS = {EventLevel.INFO, EventLevel.WARN, EventLevel.ERROR}

#: The process's parsed project, keyed by the parse cache it came from (its path and modification time).
_manifests: dict[tuple[str, int], Manifest] = {}
_manifest_lock = threading.Lock()


def parsed_manifest(project_dir: Path, profiles_dir: Path, parse_cache: Path) -> Manifest:
    """The project parsed once per process and parse cache: `dbt parse` in this process, reading `parse_cache` (the
    project's, which `ensure_manifest` keeps current), so it re-reads only what changed since that cache (nothing,
    normally: ~1 s). `profiles_dir` must hold the profile the cache was written with; the calls that reuse the
    manifest may use another profile of the same warehouse. When dbt had to parse (a dbt file changed, or someone
    ran dbt by hand with another profile), the cache it wrote replaces `parse_cache`, so the next process does not
    parse again."""
    with _manifest_lock:
        key = _cache_key(parse_cache)
        if key not in _manifests:
            with tempfile.TemporaryDirectory(prefix="c360-dbt-parse-") as target:
                cache = ["--partial-parse-file-path", str(parse_cache)] if parse_cache.exists() else []
                result = dbtRunner().invoke(
                    [
                        "parse",
                        "--project-dir", str(project_dir),
                        "--profiles-dir", str(profiles_dir),
                        "--target-path", target,
                        "--log-path", target,
                        "--log-level", "none",
                        "--log-level-file", "none",
                        "--no-write-json",
                        "--no-send-anonymous-usage-stats",
                        *cache,
                    ]
                )  # fmt: skip
                if not result.success or not isinstance(result.result, Manifest):
                    raise RuntimeError(f"dbt could not parse the project in {project_dir}: {result.exception}")
                written = Path(target) / parse_cache.name  # only when dbt parsed something
                if written.exists():
                    staged = parse_cache.with_name(f".{parse_cache.name}.{os.getpid()}")
                    shutil.copyfile(written, staged)
                    os.replace(staged, parse_cache)  # atomic: a process reading it sees the old or the new one
                    key = _cache_key(parse_cache)
            _manifests.clear()  # an older cache's manifest is never used again
            _manifests[key] = result.result
        return _manifests[key]


def _cache_key(parse_cache: Path) -> tuple[str, int]:
    return str(parse_cache), parse_cache.stat().st_mtime_ns if parse_cache.exists() else 0


def close_dbt_database() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a dbt call (its `keep_open`, which also
    spares it reopening the file between nodes: ~3 s CPU of an XS build), so the run's next steps can open the file
    with their own settings (DuckDB refuses a second configuration of an open file in one process)."""
    with _close_lock:
        try:
            environment = DuckDBConnectionManager.env()
        except Exception:  # noqa: BLE001 - dbt-duckdb raises a plain Exception when no call opened one
            return
        DuckDBConnectionManager.close_all_connections()  # forget it, so the next call opens the file again
        environment.close()


_close_lock = threading.Lock()


def invoke_dbt(
    args: Sequence[str], manifest: Manifest, run_settings: Mapping[str, str], callbacks: Sequence[Callable] = ()
) -> dbtRunnerResult:
    """One dbt call in this process on the parsed `manifest`, with the run's settings where dbt reads them (`--vars`
    for the SQL's `run_setting` macro, `settings_of_this_dbt_call` for the Python models), and the database closed
    when it ends, whatever the outcome."""
    with settings_of_this_dbt_call(run_settings):
        try:
            vars_ = ["--vars", json.dumps(dict(run_settings), sort_keys=True)]
            return dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke([*args, *vars_])
        finally:
            close_dbt_database()  # before the caller (or dagster-dbt reading the output) goes on: it opens the file


class InProcessDbt:
    """One dbt call on a thread of this process, shaped as the `subprocess.Popen` dagster-dbt's invocation reads:
    `args`, `stdout` (dbt's events at info level and above, one JSON object per line), `wait()`, `poll()`,
    `returncode` (dbt's exit codes: 0 success, 1 a node or test failed, 2 dbt itself failed) and `send_signal()`.

    dbt runs in a daemon thread: an interrupted step (the run terminated, Ctrl-C) fails at once and dbt stops with the
    process, as a killed dbt child would (the warehouse keeps its last committed state).

    `log_file`: where the same events are also written as dbt's text log (`HH:MM:SS  message`, secrets scrubbed as
    dbt scrubs them), instead of dbt's own file log (`--log-level-file info`), which formats and scrubs every event,
    debug ones (each SQL statement) included, before its level filter drops them (XS, dbt's elapsed time: 11.2 s with
    dbt's file log, 9.5 s with this one; medians of 3 interleaved runs)."""

    def __init__(
        self, args: Sequence[str], manifest: Manifest, run_settings: Mapping[str, str], log_file: Path | None = None
    ) -> None:
        self.args = ["dbt", *args]
        self.returncode: int | None = None
        self._interrupted: int | None = None
        read_end, write_end = os.pipe()
        self.stdout = os.fdopen(read_end, "rb")
        self._sink = os.fdopen(write_end, "wb")
        self._sink_lock = threading.Lock()  # dbt's threads fire events concurrently
        self._log = None
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = log_file.open("a", encoding="utf-8")
        self._run_settings = dict(run_settings)
        self._thread = threading.Thread(target=self._invoke, args=(list(args), manifest), name="dbt", daemon=True)
        self._thread.start()

    def _invoke(self, args: list[str], manifest: Manifest) -> None:
        try:
            result = invoke_dbt(args, manifest, self._run_settings, callbacks=[self._forward])
            if result.exception is not None:
                self._write_error(f"dbt failed: {result.exception}")
            self.returncode = 0 if result.success else 2 if result.exception is not None else 1
        except BaseException as error:  # noqa: BLE001 - anything dbt raises ends the call with dbt's exit code 2
            self._write_error(f"dbt failed: {type(error).__name__}: {error}")
            self.returncode = 2
        finally:
            with self._sink_lock:
                with contextlib.suppress(BrokenPipeError):
                    self._sink.close()  # the reader sees the end of the output
                if self._log is not None:
                    self._log.close()

    def _forward(self, event: EventMsg) -> None:
        if event.info.level not in _FORWARDED_LEVELS:
            return
        self._write(msg_to_dict(event))

    def _write_error(self, message: str) -> None:
        now = datetime.now(UTC).isoformat()
        self._write({"info": {"name": "MainEncounteredError", "level": "error", "msg": message, "ts": now}, "data": {}})

    def _write(self, event: dict) -> None:
        line = json.dumps(event, default=str).encode() + b"\n"  # as dbt's own JSON log, forgiving
        with self._sink_lock:
            if self._log is not None:
                self._log.write(f"{datetime.now(UTC):%H:%M:%S}  {env_scrubber(str(event['info']['msg']))}\n")
            try:
                self._sink.write(line)
                self._sink.flush()
            except (BrokenPipeError, ValueError):  # the reader has gone (its step failed): dbt finishes unheard
                pass

    def poll(self) -> int | None:
        if self._interrupted is not None:
            return -self._interrupted
        return None if self._thread.is_alive() else self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self._interrupted is None:
            self._thread.join(timeout)
        if self._interrupted is not None:
            return -self._interrupted  # as a process a signal ended
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """dbt in a thread cannot be signalled: the call counts as ended by `sig` (what dagster-dbt waits for after
        forwarding an interrupt), and dbt stops with the process (class docstring)."""
        self._interrupted = signal.Signals(sig)
