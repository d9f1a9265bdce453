"""`c360 run`: the daily job once, in this process; the launcher (launcher.py) starts this module for `run`.

Why a module of its own: `c360 run` is what every scheduled run, test and benchmark pays for, and the full CLI
(main.py) also imports what other commands need (the generator, MetricFlow, the docs site, PostgreSQL admin): ~0.6 s
more before the first step. main.py keeps `run` among its commands (and `demo` calls it) through this module.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from c360_cli.collector import after_imports, before_exit
from orchestration.alerts import Handled, handle_finished_run, run_is_healthy
from orchestration.config import Settings, SettingsError
from orchestration.partitions import partition_key
from orchestration.recovery import sweep
from orchestration.redact import redact
from orchestration.run_outcome import RunOutcome
from orchestration.runner import prepare_instance, run_daily_job


def add_run_parser(sub: argparse._SubParsersAction) -> None:
    """The `run` command's arguments, for this module's parser and main.py's."""
    run = sub.add_parser("run", help="run the daily job once in this process and print a summary")
    run.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="as-of date for the marts and freshness rules, YYYY-MM-DD (default: the newest date in the data: the "
        "generator's end date for generated data; for C360_SOURCE=files or postgres the newest order, event or ad day "
        "loaded; otherwise today, UTC)",
    )
    run.add_argument(
        "--verbose", action="store_true", help="show Dagster's and dbt's log on the console (else: a log file)"
    )
    run.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The launcher (c360_cli/launcher.py) has run the preflight already; the job's first step runs it again."""
    started = time.perf_counter()
    verbose = getattr(args, "verbose", False)
    as_of = partition_key(settings, args.as_of) if args.as_of else ""  # a day without a partition: refused here
    log_path = settings.data_dir / "logs" / f"run-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.log"
    instance = prepare_instance(settings)
    for line in sweep(settings, instance):
        print(f"c360: {line}", file=sys.stderr)
    with console_to(None if verbose else log_path):
        outcome = run_daily_job(
            settings, as_of_date=as_of, instance=instance, log_level="WARNING" if verbose else "INFO"
        )
        handled = handle_finished_run(settings, outcome, instance)
        print_step_errors(instance, outcome.run_id)
    if run_is_healthy(outcome):
        print(handled.report_path.read_text(), end="")
    else:
        print(failure_block(outcome, handled, None if verbose else log_path))
    print(f"wall time {time.perf_counter() - started:.1f}s")
    return 0 if run_is_healthy(outcome) else 1


def failure_block(outcome: RunOutcome, handled: Handled, log_path: Path | None) -> str:
    """What a failed run prints: what failed, the original error text, where the full report and log are."""
    failed_checks = [c for c in outcome.checks if not c.passed]
    if outcome.published:
        stale = " and ".join(outcome.stale_serving_targets) or "a serving copy"
        lines = [
            f"c360 run {outcome.run_id} FAILED after publishing the DuckDB marts: {stale} still serves the previous "
            "run's marts (stale until a run publishes there again)"
        ]
    else:
        lines = [f"c360 run {outcome.run_id} FAILED: nothing was published; BI keeps reading the previous marts"]
    for step in outcome.failed_steps:
        error = outcome.step_errors.get(step, "(no error recorded)")
        text = error.splitlines()
        lines.append(f"  step {step}: {text[0] if text else error}")
        lines += [f"    {line}" for line in text[1:8]]
    for check in failed_checks[:10]:
        detail = check.detail.splitlines()[0][:300] if check.detail else ""
        lines.append(f"  check {check.asset} {check.check}: {detail}")
    if len(failed_checks) > 10:
        lines.append(f"  ... and {len(failed_checks) - 10} more failed checks (in the report)")
    if not outcome.failed_steps and not failed_checks:
        lines.append("  the run finished without publishing (see the report)")
    lines.append(f"full report: {handled.report_path}")
    if log_path is not None:
        lines.append(f"full log: {log_path} (or rerun with --verbose)")
    if handled.alert_path:
        lines.append(f"alert: {handled.alert_path}")
    return redact("\n".join(lines))


def print_step_errors(instance: dg.DagsterInstance, run_id: str) -> None:
    """Each failed step's full error with its stack and causes (to the log file, or the console with --verbose)."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        error = entry.dagster_event.step_failure_data.error
        if error is not None:
            print(redact(f"step {entry.dagster_event.step_key} failed:\n{error.to_string()}"), file=sys.stderr)


@contextmanager
def console_to(log_path: Path | None) -> Iterator[None]:
    """Send everything the job prints (Dagster warnings, dbt's log lines, tracebacks) to `log_path` instead of the
    terminal, at the file-descriptor level so child processes (dbt) are captured too; None leaves the console alone."""
    if log_path is None:
        yield
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def main(argv: list[str] | None = None) -> int:
    after_imports()
    root = argparse.ArgumentParser(prog="c360", description="c360 run: the daily job once, in this process.")
    add_run_parser(root.add_subparsers(dest="command", required=True))
    args = root.parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.func(args, settings)
    except SettingsError as exc:  # e.g. an as-of date outside the partitions
        print(f"c360: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    exit_code = main()
    before_exit()
    sys.exit(exit_code)
