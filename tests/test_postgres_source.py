"""The `postgres` CRM source against a real PostgreSQL: seeding, a first full read, incremental reads on `updated_at`,
the shared quarantine, and daily runs whose deltas pass the gates and publish.

Every test seeds its own throwaway database from the XS generator; extracts run the real Dagster crm extract asset.
Expected counts come from the generated tables, not from the warehouse.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import psycopg2
import pyarrow as pa
import pytest
from dagster_dlt import DagsterDltResource

from expectations import raw_crm_orders, raw_crm_products
from orchestration.config import Settings
from orchestration.extract.assets import definitions
from orchestration.extract.crm_postgres_source import deleted_customers, exact_money
from orchestration.extract.delivery import DeliveryError
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.ledger import mark_published
from orchestration.extract.quarantine import QUARANTINE
from orchestration.extract.raw_contract import raw_table, tables_of
from orchestration.privacy.erasure_ledger import ERASURES, SOURCE_DELETION, ledger_path
from orchestration.pseudonyms import pseudonym
from orchestration.publish.publisher import PUBLISH_LOG, published_tables
from orchestration.quality.gate import GateContext, run_gate
from simulator.crm_database_seeder import crm_tables, seed_postgres
from tests.conftest import XS, Baseline, ExpectedWarehouse, Workspace, make_workspace
from tests.postgres_fixtures import PG_HOST, PG_PORT, PG_SUPERUSER, PgTarget, throwaway_database
from tests.secret_scan import dbt_target_of_runs, files_holding

pytestmark = pytest.mark.postgres

CRM = [t.name for t in tables_of("crm")]


#: A password in the CRM URL (trust auth ignores it): it must never be written anywhere (tests below grep for it).
CRM_PASSWORD = "Crm-Pw-" + secrets.token_hex(6)


def url_of(db: PgTarget, password: str = "") -> str:
    user = f"{PG_SUPERUSER}:{password}" if password else PG_SUPERUSER
    return f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{db.dbname}"


@contextmanager
def seeded_crm(tables: dict[str, pa.Table]) -> Iterator[PgTarget]:
    with throwaway_database() as db:
        seed_postgres(tables, url_of(db))
        yield db


@contextmanager
def pg_cursor(db: PgTarget) -> Iterator[psycopg2.extensions.cursor]:
    """An autocommit cursor (psycopg2's `with connection` would open a transaction and hold its locks)."""
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def settings_for(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"C360_DATA_DIR": str(data_dir), "C360_SCALE": "XS", **env})


def extract_crm(settings: Settings) -> dict[str, tuple[int, int]]:
    """Materialize the crm extract asset as the daily job does; (rows_extracted, rows_loaded) per table of that load."""
    assets = [a for a in definitions(settings).assets if a.op.name == "extract_crm"]
    result = dg.materialize(assets, resources={"dlt": DagsterDltResource()}, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return ledger_of_last_load(settings)


def ledger_of_last_load(settings: Settings, quarantined: bool = False) -> dict[str, tuple[int, ...]]:
    """The newest crm load in audit.loads: (rows_extracted, rows_loaded[, rows_quarantined]) per table."""
    rows = raw_query(
        settings,
        "select table_name, rows_extracted, rows_loaded, rows_quarantined from audit.loads "
        "where load_id = (select max(load_id) from audit.loads where source = 'crm')",
    )
    return {table: (e, loaded, q) if quarantined else (e, loaded) for table, e, loaded, q in rows}


def raw_query(settings: Settings, sql: str, *parameters: object) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql, list(parameters)).fetchall()


@pytest.fixture(scope="module")
def first_loads(tmp_path_factory: pytest.TempPathFactory, xs_tables: dict[str, pa.Table]):
    """The crm extract from a freshly seeded Postgres, and from the synthetic landing folder, side by side."""
    synthetic_dir = tmp_path_factory.mktemp("synthetic")
    with make_workspace(synthetic_dir, xs_tables) as ws:
        synthetic = ws.settings
        synthetic_ledger = extract_crm(synthetic)
    with seeded_crm(xs_tables) as db:
        postgres = settings_for(tmp_path_factory.mktemp("pg"), C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        postgres_ledger = extract_crm(postgres)
    return synthetic, synthetic_ledger, postgres, postgres_ledger


def test_seed_creates_typed_keyed_indexed_tables_and_reseeding_replaces(xs_tables: dict[str, pa.Table]) -> None:
    with seeded_crm(xs_tables) as db, pg_cursor(db) as cur:
        cur.execute(
            "insert into crm.crm_products select 'P_EXTRA', sku, product_name, category, 1, 1, now() "
            "from crm.crm_products limit 1"
        )
        assert seed_postgres(xs_tables, url_of(db))["crm_products"] == xs_tables["crm_products"].num_rows
        for spec in crm_tables():
            cur.execute(f"select count(*) from crm.{spec.name}")
            assert cur.fetchall()[0][0] == (xs_tables[spec.name].num_rows if spec.name in xs_tables else 0)
            cur.execute(
                "select column_name, data_type, is_nullable from information_schema.columns "
                "where table_schema = 'crm' and table_name = %s order by ordinal_position",
                [spec.name],
            )
            columns = cur.fetchall()
            assert [c[0] for c in columns] == [c.name for c in spec.columns], spec.name
            assert {c[0] for c in columns if c[2] == "NO"} == set(spec.required), spec.name
            cur.execute("select indexdef from pg_indexes where schemaname = 'crm' and tablename = %s", [spec.name])
            indexes = sorted(r[0] for r in cur.fetchall())
            assert any(f"UNIQUE INDEX {spec.name}_pkey" in i for i in indexes), indexes
            assert any(i.endswith("(updated_at)") for i in indexes), indexes
        cur.execute(
            "select data_type, numeric_scale from information_schema.columns "
            "where table_schema = 'crm' and table_name = 'crm_orders' and column_name = 'order_total'"
        )
        assert cur.fetchall() == [("numeric", 2)]


def test_first_extract_equals_the_synthetic_source(first_loads, xs_tables: dict[str, pa.Table]) -> None:
    synthetic, synthetic_ledger, postgres, postgres_ledger = first_loads
    assert postgres_ledger == synthetic_ledger == {t: (xs_tables[t].num_rows,) * 2 for t in CRM}
    assert raw_query(postgres, "select distinct delivery from audit.loads where source = 'crm'") == [("delta",)]
    with duckdb.connect() as con:
        con.execute(f"attach '{synthetic.warehouse_path}' as s (read_only)")
        con.execute(f"attach '{postgres.warehouse_path}' as p (read_only)")
        for table in CRM:
            shape = (
                "select column_name, data_type, is_nullable from information_schema.columns "
                f"where table_catalog = ? and table_schema = 'raw' and table_name = '{table}' order by ordinal_position"
            )
            assert con.execute(shape, ["p"]).fetchall() == con.execute(shape, ["s"]).fetchall(), table
            rows = f"select * exclude (_load_id, _loaded_at) from {{}}.raw.{table}"
            only_s = con.execute(f"{rows.format('s')} except all {rows.format('p')}").fetchall()
            only_p = con.execute(f"{rows.format('p')} except all {rows.format('s')}").fetchall()
            assert (only_s, only_p) == ([], []), table
        revenue = "select count(*), sum(order_total::decimal(18, 2)), count(distinct order_id) from {}.raw.crm_orders"
        assert con.execute(revenue.format("p")).fetchall() == con.execute(revenue.format("s")).fetchall()
    orders = xs_tables["crm_orders"]
    expected_revenue = sum(Decimal(f"{v:.2f}") for v in orders["order_total"].to_pylist())
    assert raw_query(postgres, "select count(*), sum(order_total::decimal(18, 2)) from raw.crm_orders") == [
        (orders.num_rows, expected_revenue)
    ]


def test_next_extract_reads_exactly_the_new_and_updated_rows(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    with seeded_crm(xs_tables) as db:
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        extract_crm(settings)
        with pg_cursor(db) as cur:
            cur.execute("select max(updated_at) from crm.crm_orders")
            cursor = cur.fetchall()[0][0]
            later = cursor + timedelta(seconds=1)
            # Two completed orders refunded, both stamped with the same new second.
            cur.execute(
                "update crm.crm_orders set status = 'refunded', updated_at = %s where order_id in "
                "(select order_id from crm.crm_orders where status = 'completed' order by order_id limit 2) "
                "returning order_id",
                [later],
            )
            refunded = sorted(r[0] for r in cur.fetchall())
            # A correction that keeps updated_at equal to the cursor: a tie on the boundary, with new content.
            cur.execute(
                "update crm.crm_orders set order_total = order_total + 1 where order_id = "
                "(select min(order_id) from crm.crm_orders where updated_at = %s) returning order_id",
                [cursor],
            )
            corrected = cur.fetchall()[0][0]
            # A new customer with three orders: two in the new second, one exactly at the old cursor.
            cur.execute(
                "insert into crm.crm_customers (customer_id, email, signed_up_at, updated_at) "
                "values ('C9000001', 'new@example.com', %s, %s)",
                [later, later],
            )
            cur.execute(
                "insert into crm.crm_orders values "
                "('O9000001', 'C9000001', %(t)s, 'USD', 10.50, 'completed', %(t)s), "
                "('O9000002', 'C9000001', %(t)s, 'EUR', 20.25, 'completed', %(t)s), "
                "('O9000003', 'C9000001', %(c)s, 'GBP', 30.00, 'completed', %(c)s)",
                {"t": later, "c": cursor},
            )
            cur.execute("select count(*), sum(order_total) from crm.crm_orders")
            pg_orders, pg_revenue = cur.fetchall()[0]

        second = extract_crm(settings)
        assert second == {**dict.fromkeys(CRM, (0, 0)), "crm_customers": (1, 1), "crm_orders": (6, 6)}
        load_id = raw_query(settings, "select max(load_id) from audit.loads")[0][0]
        changed = dict(raw_query(settings, f"select order_id, status from raw.crm_orders where _load_id = '{load_id}'"))
        assert sorted(changed) == sorted([*refunded, corrected, "O9000001", "O9000002", "O9000003"])
        assert [changed[o] for o in refunded] == ["refunded", "refunded"]
        assert raw_query(settings, "select count(*), sum(order_total::decimal(18, 2)) from raw.crm_orders") == [
            (pg_orders, pg_revenue)
        ]
        assert pg_orders == xs_tables["crm_orders"].num_rows + 3

        third = extract_crm(settings)
        assert third == dict.fromkeys(CRM, (0, 0))
        assert raw_query(settings, "select count(*) from raw.crm_orders") == [(pg_orders,)]


def test_bad_rows_in_the_database_are_quarantined_like_any_sources(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    """The operational database may hold rows the warehouse cannot use: they go to audit.quarantine with the reason,
    the table and row they came from, and the load id; the ledger balances. Fixing such a row (which moves its
    updated_at) loads it on the next run."""
    with seeded_crm(xs_tables) as db:
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        extract_crm(settings)
        with pg_cursor(db) as cur:
            cur.execute("alter table crm.crm_orders alter column order_total drop not null")
            cur.execute(
                "insert into crm.crm_orders values "
                "('O9000001', 'C0000001', now(), 'XYZ', 10.00, 'completed', now()), "
                "('O9000002', 'C0000001', now(), 'USD', null, 'completed', now()), "
                "('O9000003', 'C0000001', now(), 'usd', 12.00, 'completed', now())"
            )
        extract_crm(settings)
        ledger = ledger_of_last_load(settings, quarantined=True)
        assert ledger["crm_orders"] == (3, 1, 2)
        load_id = raw_query(settings, "select max(load_id) from audit.loads")[0][0]
        assert raw_query(
            settings,
            f"select file, column_name, reason, _load_id from {QUARANTINE} where raw_table = 'crm_orders' order by 2",
        ) == [
            (
                "crm.crm_orders",
                "currency",
                "unknown currency 'XYZ': no FX rate (ECB reference rates or landing/fx_rates*.csv)",
                load_id,
            ),
            ("crm.crm_orders", "order_total", "required value missing", load_id),
        ]
        assert raw_query(settings, "select order_id from raw.crm_orders where order_id like 'O9%'") == [("O9000003",)]
        with pg_cursor(db) as cur:
            cur.execute("update crm.crm_orders set order_total = 11.00, updated_at = now() where order_id = 'O9000002'")
        assert extract_crm(settings)["crm_orders"] == (1, 1)
        assert raw_query(settings, "select order_total from raw.crm_orders where order_id = 'O9000002'") == [(11.0,)]


def test_state_lives_in_the_destination(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    """dlt restores the cursor from raw._dlt_pipeline_state: losing the local pipelines dir does not reload."""
    import shutil

    with seeded_crm(xs_tables) as db:
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        orders = xs_tables["crm_orders"].num_rows
        assert extract_crm(settings)["crm_orders"] == (orders, orders)
        shutil.rmtree(settings.dlt_dir)
        assert extract_crm(settings) == dict.fromkeys(CRM, (0, 0))


def test_customers_hard_deleted_in_the_crm_are_erased_by_the_next_extract(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    """Deletions never reach an incremental read: the extract compares the CRM's ids with raw's and erases the
    missing ones through the erasure path; a CRM table emptied by mistake is refused, not erased."""
    with seeded_crm(xs_tables) as db:
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        extract_crm(settings)
        gone = sorted(xs_tables["crm_customers"]["customer_id"].to_pylist())[:2]
        with pg_cursor(db) as cur:
            cur.execute("delete from crm.crm_customers where customer_id = any(%s)", [gone])
        assert deleted_customers(settings.crm_postgres_url, settings.warehouse_path) == set(gone)

        assert extract_crm(settings) == dict.fromkeys(CRM, (0, 0))  # nothing new read; the two erased first
        for table in ("crm_customers", "crm_orders", "crm_consents"):
            query = f"select count(*) from raw.{table} where list_contains(?, customer_id)"
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
                assert con.execute(query, [gone]).fetchall() == [(0,)], table
        with duckdb.connect(str(ledger_path(settings.data_dir)), read_only=True) as con:
            reasons = con.execute(f"select distinct reason, identifier_kind from {ERASURES} order by 2").fetchall()
        assert (SOURCE_DELETION, "customer_id") in reasons
        assert deleted_customers(settings.crm_postgres_url, settings.warehouse_path) == set()

        with pg_cursor(db) as cur:
            cur.execute("delete from crm.crm_customers")
        with pytest.raises(DeliveryError, match=r"customers loaded from crm.crm_customers are gone .* refusing"):
            deleted_customers(settings.crm_postgres_url, settings.warehouse_path)


def test_numeric_money_is_read_as_the_nearest_double() -> None:
    money = pa.table({"order_total": pa.array([Decimal("42.73")], pa.decimal128(14, 2))})
    assert exact_money(money)["order_total"].to_pylist() == [42.73]
    assert money["order_total"].cast(pa.float64()).to_pylist() != [42.73]  # why exact_money exists


def test_extract_names_the_missing_table_or_column(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    with throwaway_database() as db:
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        assets = [a for a in definitions(settings).assets if a.op.name == "extract_crm"]
        with pytest.raises(dg.Failure, match="DeliveryError: the CRM database lacks required contract table"):  # final
            dg.materialize(assets, resources={"dlt": DagsterDltResource()}, instance=dg.DagsterInstance.ephemeral())
        seed_postgres(xs_tables, url_of(db))
        with pg_cursor(db) as cur:
            cur.execute("alter table crm.crm_orders drop column currency")
        with pytest.raises(
            Exception, match=r"crm\.crm_orders \(PostgreSQL\): required column\(s\) currency of raw\.crm_orders"
        ):
            dg.materialize(assets, resources={"dlt": DagsterDltResource()}, instance=dg.DagsterInstance.ephemeral())


OPTIONAL_DROPPED = ("crm_loyalty_events", "crm_support_tickets")


def raw_shape(settings: Settings, table: str) -> list[tuple]:
    return raw_query(
        settings,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = 'raw' and table_name = '{table}' order by ordinal_position",
    )


def test_absent_optional_tables_load_empty_and_are_read_once_they_appear(
    tmp_path: Path, xs_tables: dict[str, pa.Table], first_loads
) -> None:
    """An optional contract table the CRM database lacks lands as zero rows with the contract columns, recorded as
    not delivered; the tables present load as usual. Once the table exists, the next run reads it whole."""
    full = first_loads[2]
    with seeded_crm(xs_tables) as db:
        with pg_cursor(db) as cur:
            for table in OPTIONAL_DROPPED:
                cur.execute(f"drop table crm.{table}")
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        rows = {t: xs_tables[t].num_rows for t in CRM}
        assert extract_crm(settings) == {t: (0, 0) if t in OPTIONAL_DROPPED else (rows[t],) * 2 for t in CRM}
        deliveries = dict(raw_query(settings, "select table_name, delivery from audit.loads where source = 'crm'"))
        assert deliveries == {t: "absent" if t in OPTIONAL_DROPPED else "delta" for t in CRM}
        for table in OPTIONAL_DROPPED:
            assert raw_query(settings, f"select count(*) from raw.{table}") == [(0,)]
            shape = raw_shape(settings, table)
            assert [c for c, _ in shape[: len(raw_table(table).columns)]] == [c.name for c in raw_table(table).columns]
            assert shape == raw_shape(full, table), table
        assert raw_query(settings, "select count(*) from raw.crm_orders") == [(rows["crm_orders"],)]

        seed_postgres(xs_tables, url_of(db))  # recreates the dropped tables (same rows for the others)
        second = extract_crm(settings)
        assert second == {t: (rows[t],) * 2 if t in OPTIONAL_DROPPED else (0, 0) for t in CRM}
        load_id = raw_query(settings, "select max(load_id) from audit.loads")[0][0]
        assert raw_query(
            settings, f"select distinct delivery from audit.loads where source = 'crm' and load_id = '{load_id}'"
        ) == [("delta",)]
        for table in OPTIONAL_DROPPED:
            assert raw_query(settings, f"select count(*) from raw.{table}") == [(rows[table],)]
        assert extract_crm(settings) == dict.fromkeys(CRM, (0, 0))


def test_missing_required_table_fails_with_one_line_naming_it(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    with seeded_crm(xs_tables) as db:
        with pg_cursor(db) as cur:
            cur.execute("drop table crm.crm_orders, crm.crm_loyalty_events")
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        assets = [a for a in definitions(settings).assets if a.op.name == "extract_crm"]
        with pytest.raises(dg.Failure) as failed:  # a data problem: final, never retried
            dg.materialize(assets, resources={"dlt": DagsterDltResource()}, instance=dg.DagsterInstance.ephemeral())
        assert not failed.value.allow_retries and isinstance(failed.value.__cause__, DeliveryError)
        message = str(failed.value)
        assert "\n" not in message
        assert "crm_orders" in message and "crm_loyalty_events" not in message and "crm_customers" not in message
        assert "create crm.crm_orders or drop it from C360_REQUIRED_TABLES" in message


def test_gates_judge_a_delta_as_a_delta(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    """After a published first read, a read with no change is an empty delta: it passes every rule of the orders
    and products suites (an empty export would fail not_empty). Freshness is judged on the whole table, so the same
    empty delta fails it, and only it, when the as-of date is far past the newest order."""
    with seeded_crm(xs_tables) as db:
        settings = settings_for(tmp_path, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db))
        extract_crm(settings)
        mark_published(settings.warehouse_path, datetime.now(UTC))
        assert extract_crm(settings) == dict.fromkeys(CRM, (0, 0))
    on_time = GateContext(now=datetime.now(UTC), as_of=XS.end_date, currencies=FxCoverage.of(settings).currencies)
    for suite in (raw_crm_orders, raw_crm_products):
        outcome = run_gate(settings.warehouse_path, suite, on_time)
        assert (outcome.rows, outcome.failures) == (0, []), suite.SUITE_NAME
    stale = GateContext(now=on_time.now, as_of=XS.end_date + timedelta(days=10), currencies=on_time.currencies)
    failures = run_gate(settings.warehouse_path, raw_crm_orders, stale).failures
    assert [(f.expectation, f.column) for f in failures] == [("expect_column_values_to_be_between", "max_ordered_at")]


def postgres_workspace(data_dir: Path, tables: dict[str, pa.Table], db: PgTarget, password: str = ""):
    """A workspace reading the CRM from `db`; the landing folder holds only the web and ad tables."""
    files_only = {name: t for name, t in tables.items() if name not in CRM}
    return make_workspace(data_dir, files_only, C360_SOURCE="postgres", C360_CRM_POSTGRES_URL=url_of(db, password))


def published_orders(ws: Workspace) -> tuple[int, dict[str, bool]]:
    """The number of published orders and is_refunded per published order key (the CRM order id's pseudonym)."""
    with duckdb.connect(str(ws.settings.published_path), read_only=True) as con:
        count = con.execute("select count(*) from fct_orders").fetchall()[0][0]
        refunded = dict(con.execute("select order_key, is_refunded from fct_orders").fetchall())
    return count, refunded


def assert_published_with_every_gate_passed(ws: Workspace) -> None:
    outcome = ws.run()
    assert outcome.success, outcome.failed_steps
    assert [(c.check, c.detail) for c in outcome.checks if not c.passed] == []
    assert outcome.published
    with duckdb.connect(str(ws.settings.published_path), read_only=True) as con:
        assert con.execute(f"select run_id from {PUBLISH_LOG}").fetchall() == [(outcome.run_id,)]


def _reversals_of_two_refunds(tables: dict[str, pa.Table], completed: set[str]) -> pd.DataFrame:
    """Two completed orders' earn entries (order_id, customer_id, points) whose customer record's balance still
    covers them, so their refund reverses every point earned."""
    ledger = tables["crm_loyalty_events"].to_pandas()
    balance = ledger.groupby("customer_id")["points"].sum()
    earns = ledger[(ledger["event_type"] == "earn") & ledger["order_id"].isin(completed)]
    covered = earns[earns["points"] <= earns["customer_id"].map(balance)]
    return covered.sort_values("order_id").head(2)[["order_id", "customer_id", "points"]]


def _customer_to_hard_delete(expected: ExpectedWarehouse, spared: set[str]) -> str:
    """A day-1 customer with orders who is a person of their own (no duplicate record keeps them in the marts) and
    is not among `spared`."""
    records = expected.customers.groupby("person_id")["customer_id"].transform("size")
    alone = set(expected.customers.loc[records == 1, "customer_id"])
    buyers = set(expected.orders["customer_id"])
    return min((alone & buyers) - spared)


@pytest.mark.slow
def test_daily_runs_publish_the_crm_deltas_and_the_crm_hard_deletes(
    tmp_path: Path, xs_baseline: Baseline, xs_tables: dict[str, pa.Table], xs_expected: ExpectedWarehouse
) -> None:
    """Day 1 reads the whole CRM and publishes what the session's clean synthetic run did; day 2 reads exactly the
    changes (2 refunds with their points reversals, 1 new customer with 2 orders of one line each) and the untouched
    tables bring 0 rows, while a day-1 customer hard-deleted in the CRM (with their orders, as a CRM cascades an
    erasure) is erased from raw and the marts. Both runs pass every gate and publish. The CRM URL carries a
    password: no file, event or tag of the runs holds it."""
    revenue = "select count(*), sum(net_revenue_reporting) from fct_orders"
    expected_counts = published_tables(xs_baseline.settings.published_path)
    with duckdb.connect(str(xs_baseline.settings.published_path), read_only=True) as con:
        expected_revenue = con.execute(revenue).fetchall()
    quiet = dict.fromkeys(CRM, (0, 0, 0))
    with seeded_crm(xs_tables) as db, postgres_workspace(tmp_path, xs_tables, db, CRM_PASSWORD) as ws:
        assert_published_with_every_gate_passed(ws)
        assert ledger_of_last_load(ws.settings, quarantined=True) == {
            t: (xs_tables[t].num_rows, xs_tables[t].num_rows, 0) for t in CRM
        }
        assert published_tables(ws.settings.published_path) == expected_counts
        with duckdb.connect(str(ws.settings.published_path), read_only=True) as con:
            assert con.execute(revenue).fetchall() == expected_revenue
        orders_before, _ = published_orders(ws)
        assert orders_before == len(xs_expected.orders)

        # A refund reverses the points its order earned, in the same CRM change (the programme's rule).
        reversals = _reversals_of_two_refunds(xs_tables, set(xs_expected.completed["order_id"]))
        to_refund = sorted(reversals["order_id"])
        with pg_cursor(db) as cur:
            cur.execute(
                "update crm.crm_orders set status = 'refunded', updated_at = now() where order_id = any(%s)",
                [to_refund],
            )
            for row in reversals.itertuples():
                cur.execute(
                    "insert into crm.crm_loyalty_events values (%s, %s, 'reversal', %s, %s, now(), now())",
                    [f"LE-R-{row.order_id}", row.customer_id, -int(row.points), row.order_id],
                )
            cur.execute("select max(ordered_at), min(product_id) from crm.crm_orders, crm.crm_order_lines")
            last_order_at, product = cur.fetchall()[0]
            cur.execute(
                "insert into crm.crm_customers (customer_id, email, country_code, signed_up_at, updated_at) "
                "values ('C9000001', 'new.customer@example.org', 'US', %s, now())",
                [last_order_at],
            )
            cur.execute(
                "insert into crm.crm_orders values "
                "('O9000001', 'C9000001', %(t)s, 'USD', 10.50, 'completed', now()), "
                "('O9000002', 'C9000001', %(t)s, 'EUR', 20.25, 'completed', now())",
                {"t": last_order_at},
            )
            cur.execute(
                "insert into crm.crm_order_lines values "
                "('L9000001', 'O9000001', %(p)s, 1, 10.50, 10.50, now()), "
                "('L9000002', 'O9000002', %(p)s, 1, 20.25, 20.25, now())",
                {"p": product},
            )
            # A hard delete, as a CRM does on an erasure request (orders cascade): never seen by an incremental read.
            gone = _customer_to_hard_delete(xs_expected, set(reversals["customer_id"]))
            gone_orders = int((xs_expected.orders["customer_id"] == gone).sum())
            cur.execute(
                "delete from crm.crm_order_lines where order_id in "
                "(select order_id from crm.crm_orders where customer_id = %s)",
                [gone],
            )
            cur.execute("delete from crm.crm_orders where customer_id = %s", [gone])
            cur.execute("delete from crm.crm_customers where customer_id = %s", [gone])

        assert_published_with_every_gate_passed(ws)
        assert ledger_of_last_load(ws.settings, quarantined=True) == {
            **quiet,
            "crm_customers": (1, 1, 0),
            "crm_orders": (4, 4, 0),
            "crm_order_lines": (2, 2, 0),
            "crm_loyalty_events": (2, 2, 0),
        }
        load_id = raw_query(ws.settings, "select max(load_id) from audit.loads where source = 'crm'")[0][0]
        for table, key, expected in [
            ("crm_customers", "customer_id", ["C9000001"]),
            ("crm_orders", "order_id", sorted([*to_refund, "O9000001", "O9000002"])),
            ("crm_order_lines", "order_line_id", ["L9000001", "L9000002"]),
            ("crm_loyalty_events", "loyalty_event_id", sorted(f"LE-R-{o}" for o in to_refund)),
        ]:
            got = raw_query(ws.settings, f"select {key} from raw.{table} where _load_id = '{load_id}' order by 1")
            assert [r[0] for r in got] == expected, table
        orders_after, refunded = published_orders(ws)
        assert gone_orders > 0 and orders_after == orders_before + 2 - gone_orders
        ordered = [pseudonym(o, ws.settings.pii_key) for o in [*to_refund, "O9000001", "O9000002"]]
        assert [refunded[o] for o in ordered] == [True, True, False, False]
        for table in ("crm_customers", "crm_orders", "crm_consents", "crm_loyalty_events"):
            assert raw_query(ws.settings, f"select count(*) from raw.{table} where customer_id = ?", gone) == [(0,)]
        with duckdb.connect(str(ws.settings.published_path), read_only=True) as con:
            keys = con.execute("select customer_key from dim_customer").fetchall()
        assert (pseudonym(gone, ws.settings.pii_key),) not in keys
        assert (pseudonym("C9000001", ws.settings.pii_key),) in keys

        runs = ws.instance.get_run_records()
        assert len(runs) == 2
        logged = "\n".join(dg.serialize_value(e) for r in runs for e in ws.instance.all_logs(r.dagster_run.run_id))
        assert CRM_PASSWORD not in logged + repr([r.dagster_run.tags for r in runs])
        written = [ws.settings.data_dir, *dbt_target_of_runs(r.dagster_run.run_id for r in runs)]
        assert files_holding(written, [CRM_PASSWORD.encode()]) == []  # logs, reports, dlt state, dbt artifacts
