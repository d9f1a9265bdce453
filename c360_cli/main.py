"""`c360`: generate sample data, run the pipeline once in-process, inspect what is published."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import psycopg2

from c360_cli.collector import after_imports, before_exit
from c360_cli.docs import add_docs_parser
from c360_cli.generate import cmd_generate
from c360_cli.metrics import add_metrics_parser
from c360_cli.run import add_run_parser, cmd_run, console_to, failure_block, print_step_errors
from orchestration.alerts import handle_finished_run, run_is_healthy
from orchestration.backfill import BackfillError, land, plan
from orchestration.config import Settings, SettingsError
from orchestration.extract.ledger import discard_load
from orchestration.freshness import published_freshness
from orchestration.partitions import partition_key
from orchestration.preflight import preflight_problem
from orchestration.privacy.erasure import SubjectNotFound, erase
from orchestration.privacy.erasure_ledger import REQUEST
from orchestration.publish.pg_roles import provision_reader_role
from orchestration.publish.postgres_serving import served_run
from orchestration.publish.publisher import PUBLISH_LOG, RollbackError, published_tables, rollback
from orchestration.recovery import sweep
from orchestration.redact import redact
from orchestration.run_outcome import RunOutcome
from orchestration.runner import prepare_instance, run_daily_job
from orchestration.warehouse import connect_published
from simulator.retailer import DEFAULT_END_DATE


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    """One daily run per as-of date, oldest first; one line per day; stops at the first failed day (resumable)."""
    instance = prepare_instance(settings)
    try:
        for day in (args.first, args.last):
            partition_key(settings, day)  # every day of the range is one of the job's partitions
        backfill = plan(instance, args.first, args.last, Path(args.deliveries) if args.deliveries else None, args.rerun)
    except (BackfillError, SettingsError) as exc:
        print(f"c360: backfill refused: {exc}", file=sys.stderr)
        return 2
    for line in sweep(settings, instance):
        print(f"c360: {line}", file=sys.stderr)
    log_path = settings.data_dir / "logs" / f"backfill-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.log"
    print(f"backfill {backfill.backfill_id}: {len(backfill.days)} day(s), {len(backfill.done)} done before")
    failed: RunOutcome | None = None
    for day in backfill.days:
        if failed is not None:
            print(f"  {day}  not run")
            continue
        if day in backfill.done:
            print(f"  {day}  done before by run {backfill.done[day]}: skipped")
            continue
        started = time.perf_counter()
        delivery = backfill.delivery(day)
        landed = f", {land(delivery, settings.landing_dir)} files landed from {delivery}" if delivery else ""
        with console_to(None if args.verbose else log_path):
            outcome = run_daily_job(settings, day.isoformat(), instance, "INFO", tags=backfill.tags)
            handled = handle_finished_run(settings, outcome, instance)
            print_step_errors(instance, outcome.run_id)
        state = "published" if run_is_healthy(outcome) else "FAILED"
        print(f"  {day}  {state} by run {outcome.run_id} in {time.perf_counter() - started:.1f}s{landed}")
        if not run_is_healthy(outcome):
            failed = outcome
            print("\n".join(f"    {line}" for line in failure_block(outcome, handled, None).splitlines()[1:]))
    if failed is not None:
        print(
            "backfill stopped: fix the cause, then run the same command again to resume at the failed day "
            f"(log {log_path})"
        )
        return 1
    print(f"backfill {backfill.backfill_id} complete")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    args.out, args.end_date = None, _date(None)
    args.format = "files" if settings.source == "files" else "parquet"
    cmd_generate(args, settings)
    problem = preflight_problem(settings)  # after generate: the launcher cannot check a landing not written yet
    if problem:
        print(f"c360: preflight failed: {problem}", file=sys.stderr)
        return 2
    return cmd_run(args, settings)


def cmd_publish(args: argparse.Namespace, settings: Settings) -> int:
    if args.rollback:
        try:
            rollback(settings.published_path)
        except RollbackError as exc:
            print(f"rollback refused: {exc}", file=sys.stderr)
            return 1
        print("rolled back to the previous published version:")
    return cmd_publish_status(args, settings)


def cmd_publish_status(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.published_path
    if not path.exists():
        print(f"nothing published yet at {path}")
        return 1
    print(f"{path}")
    for table, rows in published_tables(path).items():
        print(f"  {table:<32} {rows:>10,}")
    with connect_published(path) as con:
        run_id, published_at = con.execute(f"select run_id, published_at from {PUBLISH_LOG}").fetchall()[0]
    print(f"published by run {run_id} at {published_at}")
    freshness = published_freshness(settings)
    print(f"freshness: {freshness.describe()}")
    problem = freshness.problem()
    if settings.postgres_dsn:
        problem = _postgres_status(settings.postgres_dsn, run_id) or problem
    if problem:
        print(f"c360: {problem}", file=sys.stderr)
        return 1
    return 0


def _postgres_status(dsn: str, file_run_id: str) -> str | None:
    """Print which run the PostgreSQL copy serves; the problem if it is stale or unreachable."""
    try:
        served = served_run(dsn)
    except psycopg2.Error as exc:
        print(f"postgres serving: unreachable ({redact(str(exc).strip().splitlines()[0])})")
        return "the PostgreSQL serving target is unreachable; it keeps its last marts until a run publishes there"
    if served is None:
        print("postgres serving: nothing published yet")
        return "nothing is published to PostgreSQL yet; the next successful run publishes there"
    pg_run_id, pg_published_at = served
    if pg_run_id == file_run_id:
        print(f"postgres serving: run {pg_run_id} (same as the file)")
        return None
    print(f"postgres serving: STALE, run {pg_run_id} published at {pg_published_at}")
    return f"PostgreSQL serves run {pg_run_id}, the file run {file_run_id}: the next successful run catches it up"


def cmd_discard_load(args: argparse.Namespace, settings: Settings) -> int:
    try:
        deleted = discard_load(settings.warehouse_path, args.load_id, datetime.now(UTC))
    except LookupError as exc:
        print(f"discard refused: {exc}", file=sys.stderr)
        return 1
    for table, rows in deleted.items():
        print(f"discarded load {args.load_id}: {rows:,} rows deleted from raw.{table}")
    return 0


def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.customer_id or args.email):
        print("erase: name the person with --customer-id and/or --email", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    try:
        result = erase(
            settings, f"erasure-{now:%Y%m%dT%H%M%S%fZ}", now, REQUEST, set(args.customer_id), set(args.email)
        )
    except SubjectNotFound as exc:
        print(f"erase: {exc}; nothing erased, nothing recorded", file=sys.stderr)
        return 1
    except (duckdb.IOException, psycopg2.Error) as exc:
        print(f"erase refused: {redact(str(exc).strip().splitlines()[0])} (is a run in progress? retry after it)")
        return 1
    print("\n".join(result.summary_lines()))
    print("the next run rebuilds every mart without them; later deliveries of them are suppressed at extract")
    return 1 if result.postgres_problem else 0


def cmd_postgres_provision(args: argparse.Namespace, settings: Settings) -> int:
    dsn = args.dsn or settings.postgres_dsn
    if not dsn:
        print("no PostgreSQL target: pass --dsn or set C360_POSTGRES_DSN", file=sys.stderr)
        return 2
    role = args.reader_role or settings.postgres_reader_role
    activation = args.activation_role or settings.postgres_activation_role
    try:
        provision_reader_role(dsn, role)
        if activation:
            provision_reader_role(dsn, activation)
    except (ValueError, psycopg2.Error) as exc:
        print(f"provisioning refused: {str(exc).strip()}", file=sys.stderr)
        return 1
    print(f"reader role {role} provisioned: it may connect and, after each publish, SELECT the marts schema only")
    if activation:
        print(
            f"activation role {activation} provisioned: after each publish it may SELECT the consented audiences "
            "(mart_audiences) only; publish with C360_POSTGRES_ACTIVATION_ROLE set to it"
        )
    return 0


def _date(value: str | None) -> date:
    return date.fromisoformat(value) if value else DEFAULT_END_DATE


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="c360", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write the embedded retailer's data to the landing folder")
    gen.add_argument("--scale", choices=["XS", "S", "M", "L"], help="size preset (default $C360_SCALE or S)")
    gen.add_argument("--seed", type=int, help="random seed (default $C360_SEED or 7)")
    gen.add_argument("--end-date", type=_date, default=_date(None), help="last day of data, YYYY-MM-DD")
    gen.add_argument(
        "--format",
        choices=["parquet", "files"],
        default="parquet",
        help="parquet: one file per raw table (source synthetic); files: vendor-shaped exports (source files)",
    )
    gen.add_argument(
        "--out", help="folder to write (default $C360_DATA_DIR/landing/synthetic, landing/files or landing/postgres)"
    )
    gen.add_argument(
        "--increment",
        type=int,
        help="write only what arrives on day end-date + N (new and changed rows), replacing the landed files",
    )
    gen.add_argument(
        "--to-postgres",
        metavar="URL",
        help="seed the CRM tables into PostgreSQL schema crm at this postgresql:// URL (replacing them), and the web "
        "and ad tables to landing/postgres, for C360_SOURCE=postgres",
    )
    gen.set_defaults(func=cmd_generate)

    add_run_parser(sub)

    backfill = sub.add_parser(
        "backfill",
        help="run the daily job once per as-of date of a range, oldest first; resumable (days done are skipped)",
    )
    backfill.add_argument("--from", dest="first", type=_date, required=True, help="first as-of date, YYYY-MM-DD")
    backfill.add_argument("--to", dest="last", type=_date, required=True, help="last as-of date, YYYY-MM-DD")
    backfill.add_argument(
        "--deliveries",
        help="folder of daily deliveries, one <YYYY-MM-DD>/ per day, each copied over the landing folder before its "
        "run (default: every day runs on the landing folder as it is)",
    )
    backfill.add_argument("--rerun", action="store_true", help="run every day again, also those done before")
    backfill.add_argument("--verbose", action="store_true", help="show Dagster's and dbt's log on the console")
    backfill.set_defaults(func=cmd_backfill)

    demo = sub.add_parser("demo", help="generate the default dataset, run the pipeline, print the summary")
    demo.add_argument("--scale", choices=["XS", "S", "M", "L"])
    demo.add_argument("--seed", type=int)
    demo.add_argument("--as-of", type=date.fromisoformat, help=argparse.SUPPRESS)
    demo.add_argument("--verbose", action="store_true", help="show Dagster's and dbt's log on the console")
    demo.set_defaults(func=cmd_demo)

    discard = sub.add_parser(
        "discard-load", help="delete a rejected load's rows from raw so the next run gates only new data"
    )
    discard.add_argument("load_id", help="the _load_id named in the failed gate's report (audit.loads)")
    discard.set_defaults(func=cmd_discard_load)

    publish = sub.add_parser("publish", help="show what is published (tables, rows, run), or roll it back")
    publish.add_argument("action", nargs="?", choices=["status"], default="status")
    publish.add_argument(
        "--rollback", action="store_true", help="make the previous published version live again (one step)"
    )
    publish.set_defaults(func=cmd_publish)

    erase_cmd = sub.add_parser(
        "erase",
        help="erase a person (the whole resolved customer) from raw, quarantine, snapshots, facts, every published "
        "file and PostgreSQL serving; record them in the erasure ledger (keyed hashes) so re-deliveries are suppressed",
    )
    erase_cmd.add_argument("--customer-id", action="append", default=[], help="a CRM customer id (repeatable)")
    erase_cmd.add_argument("--email", action="append", default=[], help="an email address (repeatable)")
    erase_cmd.set_defaults(func=cmd_erase)

    postgres = sub.add_parser("postgres", help="one-time setup of the PostgreSQL serving target")
    postgres_sub = postgres.add_subparsers(dest="postgres_command", required=True)
    provision = postgres_sub.add_parser(
        "provision",
        help="create the SELECT-only BI reader role (and the activation role, if named) and remove CREATE on the "
        "database and on public (run once, as an admin; publishing then only grants each new marts schema)",
    )
    provision.add_argument("--reader-role", help="role BI tools log in as (default $C360_POSTGRES_READER_ROLE)")
    provision.add_argument(
        "--activation-role",
        help="role marketing tools log in as: reads the consented audiences only (default "
        "$C360_POSTGRES_ACTIVATION_ROLE; empty: none)",
    )
    provision.add_argument("--dsn", help="target database, libpq DSN or URL (default $C360_POSTGRES_DSN)")
    provision.set_defaults(func=cmd_postgres_provision)

    add_metrics_parser(sub)
    add_docs_parser(sub)
    return root


def main(argv: list[str] | None = None) -> int:
    after_imports()
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"c360: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args, settings)
    except SettingsError as exc:  # a setting only one command uses (e.g. an as-of date outside the partitions)
        print(f"c360: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    exit_code = main()
    before_exit()
    sys.exit(exit_code)
