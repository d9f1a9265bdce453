"""The PostgreSQL serving target against a real local Postgres: round-trip, swap, reader privileges, consistency."""

from __future__ import annotations

import json
import math
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.errors
import pytest

from orchestration.publish.pg_roles import ReaderRoleMissing, provision_reader_role
from orchestration.publish.pg_swap import PublishInProgress, PublishLockTimeout, publish_lock_key
from orchestration.publish.postgres_serving import publish_to_postgres
from tests.postgres_fixtures import PgTarget, reader_role_fixture, throwaway_database  # noqa: F401  (fixtures)

pytestmark = pytest.mark.postgres

TABLES = [("marts", "customers"), ("marts", "extras"), ("marts", "orders")]


@pytest.fixture(name="pg_target")
def provisioned_target(reader_role: str) -> Iterator[PgTarget]:
    """A throwaway database whose reader role was provisioned once, as `c360 postgres provision` does."""
    with throwaway_database() as target:
        provision_reader_role(target.dsn, reader_role)
        yield target


TRICKY_TEXT = [
    "",
    None,
    "a,b",
    'q"uote',
    '"',
    ",",
    "new\nline",
    "cr\r\nlf",
    "tab\there",
    "back\\slash \\N",
    "\\.",
    "a\n\\.\nb",
    "NULL",
    "'single'",
    "  spaces  ",
    "ü é 😀 中文 \u200b",
]

#: Postgres type of every published column, as format_type() spells it.
EXPECTED_TYPES = {
    "customers": {
        "customer_id": "bigint",
        "name": "text",
        "visits": "integer",
        "big": "numeric",
        "score": "double precision",
        "balance": "numeric(18,4)",
        "active": "boolean",
        "born": "date",
        "seen_at": "timestamp with time zone",
        "local_ts": "timestamp without time zone",
        "attrs": "jsonb",
        "run_marker": "text",
    },
    "extras": {
        "id": "bigint",
        "small": "smallint",
        "tiny": "smallint",
        "ratio": "real",
        "ref": "uuid",
        "at_time": "time without time zone",
        "run_marker": "text",
    },
    "orders": {"order_id": "bigint", "customer_id": "bigint", "amount": "numeric(12,2)", "run_marker": "text"},
}


def make_warehouse(path: Path, marker: str, n_orders: int = 5) -> Path:
    """A build warehouse with a `marts` schema: every mapped type, tricky text, nulls, and a per-run marker."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            """create table marts.customers (customer_id bigint, name varchar, visits integer, big hugeint,
            score double, balance decimal(18,4), active boolean, born date, seen_at timestamptz,
            local_ts timestamp, attrs json, run_marker varchar)"""
        )
        specials = [0.1, 1 / 3, -0.0, 1e308, 5e-324, float("inf"), float("-inf"), float("nan")]
        for i, text in enumerate(TRICKY_TEXT):
            con.execute(
                "insert into marts.customers values (?, ?, ?, ?::hugeint, ?, ?, ?, ?, ?, ?, ?::json, ?)",
                [
                    i,
                    text,
                    None if i % 5 == 1 else i * 1000,
                    None if i % 4 == 1 else str(170141183460469231731687303715884105727 - i),
                    None if i % 9 == 1 else specials[i % len(specials)],
                    None if i % 6 == 1 else Decimal("-12345678901234.5678") + i,
                    None if i % 3 == 1 else i % 2 == 0,
                    None if i % 7 == 1 else date(1, 1, 1) if i == 0 else date(2024, 2, 29),
                    None if i % 8 == 1 else datetime.fromisoformat(f"2024-03-31T23:59:59.{i:06d}+02:00"),
                    None
                    if i % 2 == 1
                    else datetime(9999, 12, 31, 23, 59, 59, 999999)
                    if i == 0
                    else datetime(2000, 1, 1),
                    None if i % 3 == 2 else json.dumps({"k": text, "n": [i, None, True], "nested": {"x": 1.5}}),
                    marker,
                ],
            )
        con.execute(
            """create table marts.extras as select * from (values
            (1::bigint, 32767::smallint, (-128)::tinyint, 0.1::float, uuid '12345678-1234-5678-1234-567812345678',
             time '23:59:59.999999'),
            (2, null, null, null, null, null),
            (3, -32768, 127, 'nan'::float, uuid '00000000-0000-0000-0000-000000000000', time '00:00:00'))
            v(id, small, tiny, ratio, ref, at_time)"""
        )
        con.execute("alter table marts.extras add column run_marker varchar")
        con.execute("update marts.extras set run_marker = ?", [marker])
        con.execute(
            "create table marts.orders as select i::bigint as order_id, (i % 3)::bigint as customer_id, "
            "(i * 10.25)::decimal(12,2) as amount, ?::varchar as run_marker from range(?) t(i)",
            [marker, n_orders],
        )
    return path


def normalize(value: object, pg_type: str) -> object:
    """Make DuckDB's and psycopg2's Python values comparable without hiding differences (floats by bit pattern)."""
    if value is None:
        return None
    if pg_type == "jsonb":
        return json.loads(value) if isinstance(value, str) else value
    if pg_type == "real":
        return struct.pack("<f", value).hex()
    if isinstance(value, float):
        return "nan" if math.isnan(value) else struct.pack("<d", value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def duck_rows(warehouse: Path, table: str, order_by: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select * from marts.{table} order by {order_by}").fetchall()


def pg_rows(conn, table: str, order_by: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(f"select * from marts.{table} order by {order_by}")
        return cur.fetchall()


def normalized(rows: list[tuple], types: list[str]) -> list[tuple]:
    return [tuple(normalize(v, t) for v, t in zip(row, types, strict=True)) for row in rows]


def pg_column_types(conn, schema: str, table: str) -> dict[str, str]:
    with conn.cursor() as cur:
        cur.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
            "where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum",
            (f"{schema}.{table}",),
        )
        return dict(cur.fetchall())


def schemas(conn) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname like 'marts%'")
        return {r[0] for r in cur.fetchall()}


def live_snapshot(conn) -> dict[str, list[tuple]]:
    """Everything a reader of `marts` can see, for before/after comparisons."""
    with conn.cursor() as cur:
        cur.execute("select tablename from pg_tables where schemaname = 'marts' order by 1")
        names = [r[0] for r in cur.fetchall()]
        snapshot = {}
        for name in names:
            cur.execute(f"select array_agg(t::text order by t::text) from marts.{name} t")  # exact rows, as text
            snapshot[name] = cur.fetchall()
        return snapshot


def publish(warehouse: Path, target: PgTarget, role: str, run_id: str, **kwargs):
    return publish_to_postgres(warehouse, TABLES, target.dsn, run_id, {"job": "test"}, reader_role=role, **kwargs)


def test_publish_round_trips_values_and_types(tmp_path: Path, pg_target: PgTarget, reader_role: str) -> None:
    warehouse = make_warehouse(tmp_path / "w.duckdb", "run-a")
    result = publish(warehouse, pg_target, reader_role, "run-a")

    assert result.schema == "marts"
    assert result.tables == {"customers": len(TRICKY_TEXT), "extras": 3, "orders": 5}
    assert (result.previous_schema, result.previous_fate) == (None, "none")
    with pg_target.connect() as conn:
        for table, expected in EXPECTED_TYPES.items():
            assert pg_column_types(conn, "marts", table) == expected
            types = list(expected.values())
            key = list(expected)[0]
            assert normalized(pg_rows(conn, table, key), types) == normalized(
                duck_rows(warehouse, table, key), types
            ), table
        # tricky text exactly, spelled out (None stays NULL, "" stays empty)
        with conn.cursor() as cur:
            cur.execute("select name from marts.customers order by customer_id")
            assert [r[0] for r in cur.fetchall()] == TRICKY_TEXT
            cur.execute("select run_id, tables, details from marts._publish_log")
            assert cur.fetchall() == [("run-a", result.tables, {"job": "test"})]
            cur.execute("select count(*) from pg_stats where schemaname = 'marts' and tablename = 'orders'")
            assert cur.fetchone()[0] == 4  # ANALYZE ran
        assert schemas(conn) == {"marts"}
    conn.close()


def test_republish_replaces_live_data_and_leaves_no_side_schemas(
    tmp_path: Path, pg_target: PgTarget, reader_role: str
) -> None:
    publish(make_warehouse(tmp_path / "a.duckdb", "run-a", n_orders=5), pg_target, reader_role, "run-a")
    result = publish(make_warehouse(tmp_path / "b.duckdb", "run-b", n_orders=8), pg_target, reader_role, "run-b")

    assert result.previous_fate == "dropped"
    assert result.previous_schema.startswith("marts__old_")
    assert result.tables["orders"] == 8
    with pg_target.connect(user=reader_role) as conn, conn.cursor() as cur:
        cur.execute("select run_id from marts._publish_log")
        assert cur.fetchall() == [("run-b",)]
        for table in ("customers", "extras", "orders"):
            cur.execute(f"select distinct run_marker from marts.{table}")
            assert cur.fetchall() == [("run-b",)]
        cur.execute("select count(*) from marts.orders")
        assert cur.fetchone()[0] == 8
    conn.close()
    with pg_target.connect() as conn:
        assert schemas(conn) == {"marts"}
    conn.close()


def test_reader_role_can_only_select_marts(tmp_path: Path, pg_target: PgTarget, reader_role: str) -> None:
    with pg_target.connect() as admin, admin.cursor() as cur:  # pre-15 defaults: provisioning must revoke them
        cur.execute("grant create on schema public to public")
        cur.execute(f'grant create on database "{pg_target.dbname}" to public')
    admin.close()
    provision_reader_role(pg_target.dsn, reader_role)
    publish(make_warehouse(tmp_path / "w.duckdb", "run-a"), pg_target, reader_role, "run-a")
    conn = pg_target.connect(user=reader_role)
    denied = psycopg2.errors.InsufficientPrivilege
    try:
        with conn.cursor() as cur:
            for table, count in {"customers": len(TRICKY_TEXT), "extras": 3, "orders": 5, "_publish_log": 1}.items():
                cur.execute(f"select count(*) from marts.{table}")
                assert cur.fetchone()[0] == count
            statements = [
                "select * from raw.crm_customers",
                "select * from quarantine.bad_rows",
                "insert into marts.orders (order_id) values (99)",
                "update marts.orders set amount = 0",
                "delete from marts.orders",
                "truncate marts.orders",
                "truncate marts._publish_log",
                "create table marts.sneaky (x int)",
                "create table public.sneaky (x int)",
                "create schema sneaky",
                "drop table marts.orders",
                "alter table marts.orders add column x int",
            ]
            for statement in statements:
                with pytest.raises(denied):
                    cur.execute(statement)
    finally:
        conn.close()
    with pg_target.connect() as admin, admin.cursor() as cur:
        cur.execute("select count(*) from marts.orders")
        assert cur.fetchone()[0] == 5
        cur.execute("select rolsuper, rolcanlogin from pg_roles where rolname = %s", (reader_role,))
        assert cur.fetchone() == (False, True)
    admin.close()


def test_provisioning_refuses_a_superuser_as_reader(pg_target: PgTarget) -> None:
    with pytest.raises(ValueError, match="superuser"):
        provision_reader_role(pg_target.dsn, "postgres")


def test_publish_leaves_privileges_alone_and_needs_a_provisioned_role(tmp_path: Path, pg_target: PgTarget) -> None:
    with pg_target.connect() as admin, admin.cursor() as cur:
        cur.execute("grant create on schema public to public")
    admin.close()
    with pytest.raises(ReaderRoleMissing, match="c360 postgres provision --reader-role never_provisioned"):
        publish(make_warehouse(tmp_path / "w.duckdb", "run-a"), pg_target, "never_provisioned", "run-a")
    with pg_target.connect() as admin, admin.cursor() as cur:
        cur.execute("select count(*) from pg_namespace where nspname like 'marts%'")
        assert cur.fetchone()[0] == 0  # the failed swap rolled the build back
        cur.execute("select has_schema_privilege('public', 'public', 'CREATE')")
        assert cur.fetchone()[0]  # a publish no longer revokes privileges on public: provisioning did, once
    admin.close()


def test_readers_never_see_a_mix_or_an_error_during_swaps(
    tmp_path: Path, pg_target: PgTarget, reader_role: str
) -> None:
    runs = {f"run-{i}": 3 + i for i in range(5)}  # run id -> order count, so every run is recognizable
    warehouses = {run: make_warehouse(tmp_path / f"{run}.duckdb", run, n) for run, n in runs.items()}
    first = next(iter(runs))
    publish(warehouses[first], pg_target, reader_role, first)

    observations: list[tuple] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        conn = pg_target.connect(user=reader_role)
        try:
            with conn.cursor() as cur:
                while not done.is_set() or len(observations) < 200:
                    cur.execute(
                        """select l.run_id,
                                  (select string_agg(distinct run_marker, ',') from marts.customers),
                                  (select string_agg(distinct run_marker, ',') from marts.orders),
                                  (select string_agg(distinct run_marker, ',') from marts.extras),
                                  (select count(*) from marts.orders)
                           from marts._publish_log l"""
                    )
                    observations.extend(cur.fetchall())
        except BaseException as error:  # recorded and asserted on below
            errors.append(error)
        finally:
            conn.close()

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        for run in list(runs)[1:]:
            publish(warehouses[run], pg_target, reader_role, run)
    finally:
        done.set()
        for thread in readers:
            thread.join(timeout=30)

    assert errors == []
    assert len(observations) >= 400
    mixed = [o for o in observations if o != (o[0], o[0], o[0], o[0], runs[o[0]])]
    assert mixed == []
    assert len({o[0] for o in observations}) >= 2  # the readers really ran across swaps
    assert observations[-1][0] == "run-4"


def test_statement_spanning_a_swap_sees_one_run_and_is_not_the_deadlock_victim(
    tmp_path: Path, pg_target: PgTarget, reader_role: str
) -> None:
    """A statement that locks marts.orders, sleeps, then late-binds marts.customers (a PL/pgSQL function) while a
    publish swaps: without table locks it sees customers of the new run next to orders of the old one. With them the
    swap waits (and backs off when it would deadlock), and the reader sees one run and gets no error."""
    publish(make_warehouse(tmp_path / "a.duckdb", "run-a"), pg_target, reader_role, "run-a")
    with pg_target.connect() as admin, admin.cursor() as cur:
        cur.execute(
            "create function public.customers_marker() returns text language plpgsql as "
            "$$ begin return (select string_agg(distinct run_marker, ',') from marts.customers); end $$"
        )
    admin.close()
    seen: list[tuple] = []
    errors: list[BaseException] = []

    def read() -> None:
        conn = pg_target.connect(user=reader_role)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "select o.run_marker, pg_sleep(1.2)::text, public.customers_marker() from marts.orders o limit 1"
                )
                seen.append(cur.fetchone())
        except BaseException as error:
            errors.append(error)
        finally:
            conn.close()

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.2)  # the reader holds marts.orders before the publish starts
    result = publish(make_warehouse(tmp_path / "b.duckdb", "run-b"), pg_target, reader_role, "run-b")
    reader.join(timeout=10)

    assert errors == []
    assert seen == [("run-a", "", "run-a")]
    assert result.swap_attempts >= 2  # it waited for the reader instead of swapping under it
    with pg_target.connect(user=reader_role) as conn, conn.cursor() as cur:
        cur.execute("select run_id from marts._publish_log")
        assert cur.fetchone()[0] == "run-b"
    conn.close()


def test_long_running_reader_makes_publish_fail_cleanly_not_hang(
    tmp_path: Path, pg_target: PgTarget, reader_role: str
) -> None:
    publish(make_warehouse(tmp_path / "a.duckdb", "run-a"), pg_target, reader_role, "run-a")
    with pg_target.connect() as conn:
        before = live_snapshot(conn)
    conn.close()
    long_reader = pg_target.connect(user=reader_role, autocommit=False)
    long_reader.set_session(isolation_level="REPEATABLE READ")
    with long_reader.cursor() as cur:
        cur.execute("select count(*) from marts.orders")  # holds ACCESS SHARE and an old snapshot until commit

    latencies: list[float] = []
    stop = threading.Event()

    seen: set[tuple] = set()
    errors: list[BaseException] = []

    def new_reader() -> None:
        conn = pg_target.connect(user=reader_role)
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    started = time.monotonic()
                    cur.execute("select run_marker from marts.orders limit 1")
                    seen.add(cur.fetchone())
                    latencies.append(time.monotonic() - started)
        except BaseException as error:
            errors.append(error)
        finally:
            conn.close()

    thread = threading.Thread(target=new_reader)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(PublishLockTimeout, match="Nothing was published"):
            publish(
                make_warehouse(tmp_path / "b.duckdb", "run-b"),
                pg_target,
                reader_role,
                "run-b",
                lock_timeout_s=0.1,
                swap_timeout_s=1.0,
            )
    finally:
        stop.set()
        thread.join(timeout=10)
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert errors == []
    assert seen == {("run-a",)}
    assert latencies and max(latencies) < 1.0  # new readers stalled at most ~one attempt's lock timeout
    with long_reader.cursor() as cur:
        cur.execute("select count(*) from marts.orders")
        assert cur.fetchone()[0] == 5
    long_reader.commit()
    long_reader.close()
    with pg_target.connect() as conn:
        assert live_snapshot(conn) == before
        assert schemas(conn) == {"marts"}
    conn.close()
    # once the reader is gone the same publish goes through
    result = publish(make_warehouse(tmp_path / "c.duckdb", "run-c"), pg_target, reader_role, "run-c")
    assert result.previous_fate == "dropped"


@pytest.mark.parametrize("failure", ["unmappable_type", "missing_table", "bad_text_mid_load"])
def test_failed_publish_leaves_live_schema_untouched(
    tmp_path: Path, pg_target: PgTarget, reader_role: str, failure: str
) -> None:
    publish(make_warehouse(tmp_path / "a.duckdb", "run-a"), pg_target, reader_role, "run-a")
    with pg_target.connect() as conn:
        before = live_snapshot(conn)
    conn.close()
    broken = make_warehouse(tmp_path / "b.duckdb", "run-b")
    tables = list(TABLES)
    with duckdb.connect(str(broken)) as con:
        if failure == "unmappable_type":
            con.execute("create table marts.bad (id bigint, tags varchar[])")
            tables.append(("marts", "bad"))
            expected, match = ValueError, r"marts\.bad\.tags: DuckDB type VARCHAR\[\] has no Postgres mapping"
        elif failure == "missing_table":
            tables.append(("marts", "nope"))
            expected, match = LookupError, "marts.nope not found"
        else:  # Postgres text cannot hold NUL: the COPY fails after the build schema was created and loaded
            con.execute("insert into marts.orders values (100, 1, 1.00, 'a' || chr(0) || 'b')")
            expected, match = psycopg2.errors.CharacterNotInRepertoire, "0x00"

    with pytest.raises(expected, match=match):
        publish_to_postgres(broken, tables, pg_target.dsn, "run-b", {}, reader_role=reader_role)

    with pg_target.connect() as conn:
        assert live_snapshot(conn) == before
        assert schemas(conn) == {"marts"}
    conn.close()


def test_concurrent_publish_is_refused(tmp_path: Path, pg_target: PgTarget, reader_role: str) -> None:
    warehouse = make_warehouse(tmp_path / "w.duckdb", "run-a")
    holder = pg_target.connect()
    with holder.cursor() as cur:
        cur.execute("select pg_advisory_lock(%s)", (publish_lock_key("marts"),))
    try:
        with pytest.raises(PublishInProgress):
            publish(warehouse, pg_target, reader_role, "run-a")
    finally:
        holder.close()
    assert publish(warehouse, pg_target, reader_role, "run-a").tables["orders"] == 5


@pytest.mark.parametrize(
    ("tables", "schema", "role", "match"),
    [
        ([], "marts", "bi_reader", "no tables"),
        (TABLES, "marts; drop schema raw", "bi_reader", "invalid schema"),
        (TABLES, "1marts", "bi_reader", "invalid schema"),
        (TABLES, 'mar"ts', "bi_reader", "invalid schema"),
        (TABLES, "", "bi_reader", "invalid schema"),
        (TABLES, "m" * 60, "bi_reader", "too long"),
        (TABLES, "public", "bi_reader", "reserved"),
        (TABLES, "pg_marts", "bi_reader", "reserved"),
        (TABLES, "marts", "bi reader", "invalid reader role"),
        (TABLES, "marts", "bi_reader;drop role postgres", "invalid reader role"),
        (TABLES, "marts", "r" * 64, "invalid reader role"),
        ([("marts", "orders; drop table x")], "marts", "bi_reader", "invalid table"),
        ([("ma rts", "orders")], "marts", "bi_reader", "invalid source schema"),
        ([("marts", "orders"), ("other", "orders")], "marts", "bi_reader", "duplicate"),
        ([("marts", "_publish_log")], "marts", "bi_reader", "_publish_log"),
    ],
)
def test_invalid_input_raises_value_error_before_connecting(
    tmp_path: Path, tables: list, schema: str, role: str, match: str
) -> None:
    unreachable = "host=127.0.0.1 port=1 dbname=never_used"  # a connection attempt would raise OperationalError
    with pytest.raises(ValueError, match=match):
        publish_to_postgres(
            tmp_path / "missing.duckdb", tables, unreachable, "run", {}, schema=schema, reader_role=role
        )
