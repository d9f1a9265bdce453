"""`c360 generate`: write the embedded retailer's data (Parquet, vendor files, or a CRM database) and its truth."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
from tqdm import tqdm

from orchestration.config import Settings
from orchestration.extract.crm_postgres_source import CRM_SOURCE
from orchestration.extract.raw_contract import tables_of
from simulator.crm_database_seeder import seed_postgres
from simulator.generator.shards import write_sharded
from simulator.generator.world import Progress
from simulator.landing_writer import write_tables
from simulator.retailer import BUILD_STEPS, GeneratorConfig, generate_with_truth, write_truth
from simulator.vendor_exports import write_files


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
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
    shards = len(config.shard_configs())
    if shards > 1 and (to_postgres or fmt == "files"):
        print(f"scale {config.scale} is generated in {shards} shards as Parquet only", file=sys.stderr)
        return 2
    delivered_through = config.end_date + timedelta(days=increment or 0)
    metadata = {
        "scale": config.scale,
        "seed": config.seed,
        "end_date": delivered_through,
        "anchor_date": config.anchor,
        "increment": increment,
    }
    started = time.perf_counter()
    steps = len(BUILD_STEPS) * shards + (2 if shards == 1 else 0)
    with tqdm(total=steps, desc=f"generate {config.scale}", unit="step", file=sys.stderr) as bar:

        def progress(step: str, rows: int, seconds: float) -> None:
            bar.write(f"  {step:<10} {rows:>12,} rows {seconds:7.1f}s", file=sys.stderr)
            bar.update(1)

        if shards > 1:  # world by world into the Parquet files, memory bounded by one shard; no truth files
            rows = write_sharded(config, increment, out, metadata, progress)
        else:
            rows = _generate_whole(config, increment, out, fmt, to_postgres, metadata, progress)
            bar.update(2)
    what = f"increment {increment} (day {delivered_through})" if increment else f"through {config.end_date}"
    sharded = f" in {shards} shards" if shards > 1 else ""
    print(
        f"generated scale {config.scale} seed {config.seed} {what}{sharded}: {sum(rows.values()):,} rows in "
        f"{len(rows)} tables -> {out} ({time.perf_counter() - started:.1f}s"
        f"{'; no _truth files for a sharded scale' if sharded else ''})"
    )
    return 0


def _generate_whole(
    config: GeneratorConfig,
    increment: int | None,
    out: Path,
    fmt: str,
    to_postgres: str | None,
    metadata: dict[str, object],
    progress: Progress,
) -> dict[str, int]:
    """One world in memory, written as Parquet, vendor files or a CRM database, with its truth; rows per table."""
    tables, truth = generate_with_truth(config, increment, progress)
    if to_postgres:
        tables = _seed_crm_database(tables, to_postgres)
    (write_files if fmt == "files" else write_tables)(tables, out, metadata)
    write_truth(truth, truth["parameters"], out)
    return {name: table.num_rows for name, table in tables.items()}


def _seed_crm_database(tables: dict[str, pa.Table], url: str) -> dict[str, pa.Table]:
    """Seed the CRM tables into PostgreSQL schema crm; return the rest (web and ads) for the landing folder."""
    seeded = seed_postgres(tables, url)
    print(f"seeded PostgreSQL schema crm: {', '.join(f'{t} {n:,}' for t, n in seeded.items())}")
    crm = {spec.name for spec in tables_of(CRM_SOURCE)}
    return {name: table for name, table in tables.items() if name not in crm}
