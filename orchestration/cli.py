"""`c360`: generate sample data, run the pipeline once in-process, inspect what is published."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

from orchestration.config import Settings


def _settings() -> Settings:
    settings = Settings.from_env()
    os.environ["C360_DATA_DIR"] = str(settings.data_dir)  # absolute, for the dbt subprocess's profile
    return settings


def cmd_generate(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from tqdm import tqdm

    from orchestration.sources.files import write_files
    from orchestration.sources.landing import write_tables
    from orchestration.sources.synthetic import BUILD_STEPS, GeneratorConfig, generate_with_truth, write_truth

    settings = _settings()
    config = GeneratorConfig(
        scale=args.scale or settings.scale,
        seed=settings.seed if args.seed is None else args.seed,
        end_date=args.end_date,
    )
    fmt = getattr(args, "format", "parquet")
    increment = getattr(args, "increment", None)
    to_postgres = getattr(args, "to_postgres", None)
    if to_postgres and (fmt == "files" or increment):
        print(
            "--to-postgres seeds the whole CRM (web and ads as Parquet) and does not combine with --format files or "
            "--increment: to deliver a change, change rows in the database",
            file=sys.stderr,
        )
        return 2
    folder = "postgres" if to_postgres else "files" if fmt == "files" else "synthetic"
    out = Path(args.out) if args.out else settings.data_dir / "landing" / folder
    started = time.perf_counter()
    with tqdm(total=len(BUILD_STEPS) + 2, desc=f"generate {config.scale}", unit="step", file=sys.stderr) as bar:

        def progress(step: str, rows: int, seconds: float) -> None:
            bar.write(f"  {step:<10} {rows:>12,} rows {seconds:7.1f}s", file=sys.stderr)
            bar.update(1)

        tables, truth = generate_with_truth(config, increment, progress)
        bar.update(1)
        delivered_through = config.end_date + timedelta(days=increment or 0)
        metadata = {
            "scale": config.scale,
            "seed": config.seed,
            "end_date": delivered_through,
            "anchor_date": config.anchor,
            "increment": increment,
        }
        if to_postgres:
            tables = _seed_crm_database(tables, to_postgres)
        (write_files if fmt == "files" else write_tables)(tables, out, metadata)
        write_truth(truth, truth["parameters"], out)
        bar.update(1)
    rows = sum(t.num_rows for t in tables.values())
    what = f"increment {increment} (day {delivered_through})" if increment else f"through {config.end_date}"
    print(
        f"generated scale {config.scale} seed {config.seed} {what}: {rows:,} rows in {len(tables)} tables -> {out} "
        f"({time.perf_counter() - started:.1f}s)"
    )
    return 0


def _seed_crm_database(tables: dict, url: str) -> dict:
    """Seed the CRM tables into PostgreSQL schema crm; return the rest (web and ads) for the landing folder."""
    from orchestration.sources.postgres_crm import CRM_SOURCE, seed_postgres
    from orchestration.sources.registry import tables_of

    seeded = seed_postgres(tables, url)
    print(f"seeded PostgreSQL schema crm: {', '.join(f'{t} {n:,}' for t, n in seeded.items())}")
    crm = {spec.name for spec in tables_of(CRM_SOURCE)}
    return {name: table for name, table in tables.items() if name not in crm}


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration.alerts import handle_finished_run, run_is_healthy
    from orchestration.runner import prepare_instance, run_daily_job

    settings = _settings()
    started = time.perf_counter()
    instance = prepare_instance(settings)
    outcome = run_daily_job(settings, as_of_date=args.as_of or "", instance=instance)
    handled = handle_finished_run(settings, outcome, instance)
    print(handled.report_path.read_text(), end="")
    if handled.alert_path:
        print(f"ALERT written to {handled.alert_path}")
    print(f"wall time {time.perf_counter() - started:.1f}s")
    return 0 if run_is_healthy(outcome) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    args.out, args.end_date = None, _date(None)
    args.format = "files" if _settings().source == "files" else "parquet"
    cmd_generate(args)
    return cmd_run(args)


def cmd_publish(args: argparse.Namespace) -> int:
    if args.rollback:
        from orchestration.publish.publisher import RollbackError, rollback

        try:
            rollback(_settings().published_path)
        except RollbackError as exc:
            print(f"rollback refused: {exc}", file=sys.stderr)
            return 1
        print("rolled back to the previous published version:")
    return cmd_publish_status(args)


def cmd_publish_status(args: argparse.Namespace) -> int:
    import duckdb

    from orchestration.publish.publisher import PUBLISH_LOG, published_tables

    settings = _settings()
    path = settings.published_path
    if not path.exists():
        print(f"nothing published yet at {path}")
        return 1
    print(f"{path}")
    for table, rows in published_tables(path).items():
        print(f"  {table:<32} {rows:>10,}")
    with duckdb.connect(str(path), read_only=True) as con:
        for run_id, published_at in con.execute(f"select run_id, published_at from {PUBLISH_LOG}").fetchall():
            print(f"published by run {run_id} at {published_at}")
    return 0


def cmd_discard_load(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from orchestration.extract.ledger import discard_load

    try:
        deleted = discard_load(_settings().warehouse_path, args.load_id, datetime.now(UTC))
    except LookupError as exc:
        print(f"discard refused: {exc}", file=sys.stderr)
        return 1
    for table, rows in deleted.items():
        print(f"discarded load {args.load_id}: {rows:,} rows deleted from raw.{table}")
    return 0


def _date(value: str | None) -> date:
    from orchestration.sources.synthetic import DEFAULT_END_DATE

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

    run = sub.add_parser("run", help="run the daily job once in this process and print a summary")
    run.add_argument(
        "--as-of",
        help="as-of date for the marts and freshness rules, YYYY-MM-DD (default: the newest date in the data: the "
        "generator's end date for generated data; for C360_SOURCE=files or postgres the newest order, event or ad day "
        "loaded; otherwise today, UTC)",
    )
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate the default dataset, run the pipeline, print the summary")
    demo.add_argument("--scale", choices=["XS", "S", "M", "L"])
    demo.add_argument("--seed", type=int)
    demo.add_argument("--as-of", help=argparse.SUPPRESS)
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
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
