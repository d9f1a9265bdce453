"""A sharded scale (L: a million customers) generated one world at a time, so the generator's memory is one shard's.

Each shard is an independent world with its share of the people and its own random streams
(GeneratorConfig.shard_configs). Its rows are made globally unique by tagging every identifier the shards would
otherwise share (customer, order, event ids; a person's email gets a plus-address tag), and they are appended to
one Parquet file per table as they come. The product catalogue draws from the base seed, so every shard sells the
same products and the catalogue is written once. Ad reports aggregate clicks over campaign-days, which every shard
has: they are summed across shards (campaigns are shared), so clicks and spend stay consistent with the sessions.
Ground truth (the `_truth` files) is written for single-world scales only: a sharded dataset is for measuring scale.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from orchestration.extract.ad_platforms import AD_PLATFORMS
from orchestration.extract.raw_contract import ga4_event_id
from simulator.generator.dataset import deliver
from simulator.generator.generator_config import GeneratorConfig
from simulator.generator.world import Progress, build_world
from simulator.landing_writer import appending_tables, write_manifest

#: Per raw table, the identifier columns that two shards would both produce (ids numbered from 1 in each world).
TAGGED: dict[str, tuple[str, ...]] = {
    "crm_customers": ("customer_id",),
    "crm_orders": ("order_id", "customer_id"),
    "crm_order_lines": ("order_line_id", "order_id"),
    "crm_loyalty_events": ("loyalty_event_id", "customer_id", "order_id"),
    "crm_support_tickets": ("ticket_id", "customer_id"),
    "crm_nps_responses": ("response_id", "customer_id"),
    "crm_consents": ("consent_event_id", "customer_id"),
    "ga4_events": ("user_pseudo_id", "user_id", "transaction_id"),
}
#: Email columns: a person's address is derived from their number in the world, so shards share addresses.
EMAILS = {"crm_customers": "email"}
#: Written from the first shard only: the same in every shard.
SHARED = ("crm_products",)
#: Summed across shards by campaign-day (every column that is not a metric is part of the key).
SUMMED = tuple(platform.raw_table for platform in AD_PLATFORMS)


def tag_shard(name: str, table: pa.Table, shard: int) -> pa.Table:
    """The table's shared identifiers made unique to the shard: `C0000001` -> `C0000001-s03`, `ann.1@example.com`
    -> `ann.1+s03@example.com` (nulls stay null); GA4 event ids are derived again from the tagged user ids."""
    suffix = f"-s{shard:02d}"
    for column in TAGGED.get(name, ()):
        tagged = pc.binary_join_element_wise(table[column], pa.scalar(suffix), "")
        table = table.set_column(table.schema.get_field_index(column), column, tagged)
    if name in EMAILS:
        column = EMAILS[name]
        tagged = pc.replace_substring(table[column], "@", f"+s{shard:02d}@", max_replacements=1)
        table = table.set_column(table.schema.get_field_index(column), column, tagged)
    if name == "ga4_events" and table.num_rows:
        ids = ga4_event_id(table["user_pseudo_id"], table["event_timestamp"], table["event_name"])
        table = table.set_column(table.schema.get_field_index("event_id"), "event_id", ids)
    return table


def sum_by_campaign_day(tables: list[pa.Table]) -> pa.Table:
    """Ad report rows of every shard summed per key (the non-numeric columns), in key order."""
    table = pa.concat_tables(tables)
    metrics = [f.name for f in table.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    keys = [c for c in table.column_names if c not in metrics]
    summed = table.group_by(keys, use_threads=False).aggregate([(m, "sum") for m in metrics])
    summed = summed.rename_columns([*keys, *metrics]).select(table.column_names).cast(table.schema)
    return summed.sort_by([(k, "ascending") for k in keys])


def shard_tables(config: GeneratorConfig, increment: int | None, progress: Progress | None = None) -> Iterator[dict]:
    """Each shard's delivered tables, tagged, one shard at a time."""
    for shard in config.shard_configs():  # no local keeps a shard alive while the next one is built
        yield {
            name: tag_shard(name, t, shard.shard or 0)
            for name, t in deliver(build_world(shard, progress), increment).tables.items()
        }


def write_sharded(
    config: GeneratorConfig,
    increment: int | None,
    out_dir: Path,
    metadata: dict[str, object],
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the landing folder of a sharded scale, as landing_writer.write_tables does, holding at most one shard's
    tables in memory; returns the rows per table."""
    rows: dict[str, int] = {}
    ads: dict[str, list[pa.Table]] = {name: [] for name in SUMMED}
    with appending_tables(out_dir) as append:
        for k, tables in enumerate(shard_tables(config, increment, progress)):
            for name, table in tables.items():
                if name in SUMMED:
                    ads[name].append(table)
                elif k == 0 or name not in SHARED:
                    append(name, table)
                    rows[name] = rows.get(name, 0) + table.num_rows
            del tables, table
        for name, parts in ads.items():
            summed = sum_by_campaign_day(parts)
            append(name, summed)
            rows[name] = summed.num_rows
    write_manifest(rows, out_dir, {**metadata, "shards": len(config.shard_configs())})
    return rows
