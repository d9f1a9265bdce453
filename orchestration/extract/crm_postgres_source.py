"""The `postgres` CRM source: dlt's `sql_database` reading schema `crm` incrementally on `updated_at`.

Each table is read with `updated_at >= cursor` (dlt keeps the cursor in the pipeline state, stored in the pipelines
dir and in the destination's `_dlt_pipeline_state`), so a run reads only rows inserted or updated since the last
one: a DELTA delivery, which the gates judge as a delta (an empty one is legitimate). Rows whose `updated_at` equals
the stored cursor are read again and dropped if dlt already loaded them; dlt recognises them by a hash of the whole
contract row, so a row updated again within the same cursor value (same timestamp) is not mistaken for one already
loaded. Each chunk that passes dlt's filter goes through the shared `admit` step (quarantine rules, ledger counts,
`_load_id` / `_loaded_at`), exactly as a file delivery does; tables merge on the contract primary key.

Schema `crm` is inspected once before the read: a missing required table (Settings.required_tables) fails with one
line naming every such table; a missing optional table is not read but lands as zero rows with the contract schema
and ledger delivery ABSENT ("not delivered"), as an absent file does for the file sources. Once the table appears, the
next run reads it whole (no cursor yet) and later runs incrementally.

Hard deletes: an incremental read never sees a deleted row. So every run also reads the id column of
`crm.crm_customers` and compares it with the customers raw holds from this database (`deleted_customers`); each one
gone is erased through the same path as `c360 erase` (orchestration/privacy/erasure.py), before the load.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.items_transform import MapItem
from dlt.extract.resource import DltResource
from dlt.sources.sql_database import remove_nullability_adapter, sql_database
from sqlalchemy import create_engine, inspect
from sqlalchemy import exc as sa_exc

from orchestration.extract.admission import ABSENT, DELTA, TableOutcome, admit
from orchestration.extract.delivery import Delivery, DeliveryError, not_delivered, with_lineage
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.quarantine import conform
from orchestration.extract.raw_contract import RawTable, tables_of
from orchestration.privacy.erasure_ledger import ErasedSubjects
from orchestration.warehouse import connect_file

#: Where the CRM database keeps the contract tables, which dlt source system they feed, and the incremental cursor.
CRM_SCHEMA = "crm"
CRM_SOURCE = "crm"
CURSOR_COLUMN = "updated_at"

#: Arrow batch size read from Postgres; bounds memory whatever the table size.
CHUNK_ROWS = 50_000

#: Seconds to wait for the CRM database when inspecting schema `crm` before the read.
CONNECT_TIMEOUT_S = 10


def sqlalchemy_url(url: str) -> str:
    """The CRM URL for SQLAlchemy with the installed driver (psycopg2; SQLAlchemy 2.1 defaults to psycopg 3)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise ValueError(f"C360_CRM_POSTGRES_URL must be a postgresql:// URL, got {scheme or url!r}://...")
    return f"postgresql+psycopg2://{rest}"


def exact_money(batch: pa.Table) -> pa.Table:
    """NUMERIC columns as the nearest double: Arrow's decimal->float cast divides by 10**scale in floating point
    (NUMERIC 42.73 -> 42.730000000000004); parsing the decimal's text gives 42.73, what the other sources deliver."""
    for i, field in enumerate(batch.schema):
        if pa.types.is_decimal(field.type):
            batch = batch.set_column(i, field.name, batch[i].cast(pa.string()).cast(pa.float64()))
    return batch


class _AfterIncremental(MapItem):
    """A map step that runs after dlt's incremental filter (affinity 1) so it sees only rows that will load; a plain
    `add_map` step (affinity 0) would run before it and count rows the boundary dedup then drops."""

    placement_affinity = 1.05


def _configure(
    resource: DltResource,
    spec: RawTable,
    load_id: str,
    loaded_at: datetime,
    outcome: TableOutcome,
    fx: FxCoverage,
    erased: ErasedSubjects | None,
):
    where = f"{CRM_SCHEMA}.{spec.name}"

    def to_contract(batch: pa.Table) -> pa.Table:
        # Before dlt's incremental step, whose row hash needs every contract column: a missing one is named here.
        return conform(exact_money(batch), spec, f"{where} (PostgreSQL)")

    def admit_chunk(batch: pa.Table) -> pa.Table:
        delivery = Delivery(with_lineage(batch, where, first_row=outcome.extracted + 1))
        return admit(delivery, spec, load_id, loaded_at, outcome, fx, erased)

    resource.apply_hints(
        write_disposition="merge",
        primary_key=list(spec.primary_key),
        # Boundary dedup on the whole row, not the key: a re-update within the same timestamp must load again. A row
        # without updated_at is read (every run, until fixed) so the quarantine reports it instead of dlt failing.
        incremental=dlt.sources.incremental(
            CURSOR_COLUMN, primary_key=tuple(spec.schema.names), on_cursor_value_missing="include"
        ),
    )
    return resource.add_map(to_contract).add_step(_AfterIncremental(admit_chunk))


def present_tables(url: str) -> set[str]:
    """The tables schema `crm` has now (one short connect); an unreachable database fails with one line."""
    engine = create_engine(sqlalchemy_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        return set(inspect(engine).get_table_names(schema=CRM_SCHEMA))
    except sa_exc.OperationalError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc).__name__])[0]
        raise DeliveryError(f"cannot inspect schema {CRM_SCHEMA!r} of the CRM database: {reason}") from exc
    finally:
        engine.dispose()


def missing_required_message(missing: list[str]) -> str:
    tables = " and ".join(f"{CRM_SCHEMA}.{t}" for t in missing)
    it = "it" if len(missing) == 1 else "them"
    return (
        f"the CRM database lacks required contract table(s) {', '.join(missing)} in schema {CRM_SCHEMA!r}: "
        f"create {tables} or drop {it} from C360_REQUIRED_TABLES"
    )


def _absent_resource(
    spec: RawTable, load_id: str, loaded_at: datetime, outcome: TableOutcome, fx: FxCoverage
) -> DltResource:
    """An optional table the CRM database does not have: zero rows in the contract's shape, not delivered."""

    def rows() -> Iterator[pa.Table]:
        yield admit(not_delivered(spec.schema), spec, load_id, loaded_at, outcome, fx)

    return dlt.resource(rows, name=spec.name, primary_key=list(spec.primary_key), write_disposition="merge")


def crm_postgres_source(
    url: str,
    load_id: str,
    loaded_at: datetime,
    outcomes: dict[str, TableOutcome],
    fx: FxCoverage,
    required: tuple[str, ...] = (),
    erased: ErasedSubjects | None = None,
):
    """The `crm` dlt source over the operational Postgres at `url`; `outcomes` receives, per table, what was read
    and rejected (a table with no change gets an empty DELTA outcome). A contract table schema `crm` lacks fails the
    read if it is `required`, else it loads as zero rows with outcome ABSENT."""
    if not url:
        raise DeliveryError("C360_SOURCE=postgres reads the CRM from C360_CRM_POSTGRES_URL, which is not set")
    specs = {spec.name: spec for spec in tables_of(CRM_SOURCE)}
    present = present_tables(url)
    missing = [name for name in specs if name not in present]
    missing_required = [name for name in missing if name in required]
    if missing_required:
        raise DeliveryError(missing_required_message(missing_required))
    absent = []
    for name in missing:
        outcomes[name] = TableOutcome(delivery=ABSENT)
        absent.append(_absent_resource(specs[name], load_id, loaded_at, outcomes[name], fx))
    read = [name for name in specs if name in present]
    if not read:  # sql_database with no table_names would read every table of the schema
        return dlt.source(name=CRM_SOURCE, max_table_nesting=0)(lambda: absent)()
    try:
        source = sql_database.clone(name=CRM_SOURCE, max_table_nesting=0)(
            credentials=sqlalchemy_url(url),
            schema=CRM_SCHEMA,
            table_names=read,
            backend="pyarrow",
            chunk_size=CHUNK_ROWS,
            detect_precision_hints=None,  # deprecated in favour of reflection_level; None silences its warning
            reflection_level="minimal",  # types come from the data and are cast to the contract by `admit`
            table_adapter_callback=remove_nullability_adapter,  # raw columns stay nullable, as from other sources
            engine_kwargs={"connect_args": {"options": "-c timezone=UTC"}},
        )
    except sa_exc.InvalidRequestError as exc:  # a table dropped since the inspection: name which
        raise DeliveryError(f"the CRM database lacks contract table(s) in schema {CRM_SCHEMA!r}: {exc}") from exc
    for name in read:
        outcomes[name] = TableOutcome(delivery=DELTA)
        _configure(source.resources[name], specs[name], load_id, loaded_at, outcomes[name], fx, erased)
    source.resources.add(*absent)
    return source


#: A run refuses to erase more than this share of the customers raw holds from the CRM database in one go (and
#: more than MAX_DELETIONS_ANYWAY of them): a truncated or wrongly pointed CRM table must fail loudly, not erase
#: everybody irreversibly.
MAX_DELETED_SHARE = 0.05
MAX_DELETIONS_ANYWAY = 20


def deleted_customers(url: str, warehouse_path: Path) -> set[str]:
    """CRM customer ids raw holds from this database (loaded by a delta read) that the database no longer has:
    hard-deleted at the source. One read of the id column; DeliveryError past the safety limits."""
    if not warehouse_path.exists():
        return set()
    engine = create_engine(sqlalchemy_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as con:
            rows = con.exec_driver_sql(f"select customer_id from {CRM_SCHEMA}.crm_customers").fetchall()
    except sa_exc.OperationalError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc).__name__])[0]
        raise DeliveryError(f"cannot read {CRM_SCHEMA}.crm_customers of the CRM database: {reason}") from exc
    finally:
        engine.dispose()
    present = pa.table({"customer_id": pa.array([r[0] for r in rows], pa.string())})
    with connect_file(warehouse_path, read_only=True) as con:
        if not con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'crm_customers'"
        ).fetchall()[0][0]:
            return set()
        con.register("present", present)
        held, gone = con.execute(
            "select count(*), count(*) filter (where customer_id not in (select customer_id from present)) "
            "from raw.crm_customers where _load_id in "
            "(select load_id from audit.loads where table_name = 'crm_customers' and delivery = ?)",
            [DELTA],
        ).fetchall()[0]
        if gone > MAX_DELETIONS_ANYWAY and gone > MAX_DELETED_SHARE * held:
            raise DeliveryError(
                f"{gone} of the {held} customers loaded from {CRM_SCHEMA}.crm_customers are gone from the CRM "
                f"database; refusing to erase more than {MAX_DELETED_SHARE:.0%} at once: check "
                "C360_CRM_POSTGRES_URL and the table, or erase them with c360 erase"
            )
        return {
            r[0]
            for r in con.execute(
                "select customer_id from raw.crm_customers where customer_id not in (select customer_id from present) "
                "and _load_id in (select load_id from audit.loads where table_name = 'crm_customers' and delivery = ?)",
                [DELTA],
            ).fetchall()
        }
