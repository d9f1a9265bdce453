"""Erasure (issue 14): `c360 erase` removes the whole resolved person from every copy, down to the bytes, and a
later re-delivery of them stays out of raw.

The ledger and admission tests are unit tests. The proof runs on a copy of the session's clean XS run with a
PostgreSQL serving copy, kept published versions and a rolled-back copy: it erases a person whom identity resolution
merged from two CRM records, checks every copy at once, then runs the pipeline again on the unchanged landing folder
(which still delivers the person: suppression at extract) and proves that no file under the data dir but the landing
folder holds the person's ids, emails, phone or name, as bytes or as a value of any DuckDB table, that PostgreSQL
serving holds none, and that every other customer's rows and own figures are what they were.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pyarrow as pa
import pytest

from c360_cli.main import main as c360_main
from orchestration.activation.exports import subject_cells
from orchestration.config import Settings
from orchestration.extract.admission import SUPPRESSED_BY_ERASURE, TableOutcome, admit
from orchestration.extract.delivery import Delivery, Reject, with_lineage
from orchestration.extract.fx_rates import FxCoverage
from orchestration.extract.raw_contract import raw_table
from orchestration.privacy.erasure_ledger import (
    CUSTOMER_ID,
    EMAIL,
    ORDER_ID,
    REQUEST,
    ErasedSubjects,
    LedgerKeyError,
    key_fingerprint,
    ledger_path,
    record_erasure,
)
from orchestration.pseudonyms import pseudonym
from orchestration.publish.assets import marts_to_publish
from orchestration.publish.pg_roles import provision_reader_role
from orchestration.publish.postgres_serving import publish_to_postgres
from orchestration.publish.publisher import publish, rollback
from orchestration.transform.project import dbt_project
from simulator.landing_writer import write_tables
from tests.conftest import TEST_PII_KEY, Baseline, copy_baseline
from tests.extract_fixtures import Extract, failure_messages
from tests.postgres_fixtures import PgTarget, pg_target_fixture, reader_role_fixture  # noqa: F401

KEY = TEST_PII_KEY.encode()
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _customers(rows: list[tuple[str, str]]) -> pa.Table:
    spec = raw_table("crm_customers")
    table = pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "email": [r[1] for r in rows],
            **{
                c.name: pa.array(
                    [NOW if c.type == spec.schema.field("signed_up_at").type else None] * len(rows), c.type
                )
                for c in spec.columns
                if c.name not in ("customer_id", "email")
            },
        }
    ).select(spec.schema.names)
    return with_lineage(table, "crm_customers.parquet")


def test_the_ledger_holds_keyed_hashes_only_and_suppresses_every_redelivery(
    tmp_path: Path, fx_coverage: FxCoverage
) -> None:
    added = record_erasure(
        tmp_path,
        KEY,
        "r1",
        NOW,
        REQUEST,
        {CUSTOMER_ID: {"C000042"}, EMAIL: {"Ann.Erased@Example.org "}, ORDER_ID: {"O1"}},
    )
    assert added == 3
    assert record_erasure(tmp_path, KEY, "r2", NOW, REQUEST, {CUSTOMER_ID: {"C000042"}}) == 0  # idempotent
    stored = ledger_path(tmp_path).read_bytes()
    for clear in (b"C000042", b"ann.erased@example.org", b"Ann.Erased", b"O1\x00"):
        assert clear not in stored

    erased = ErasedSubjects.load(tmp_path, KEY)
    delivery = Delivery(
        _customers(
            [
                ("C000042", "someone.else@example.org"),  # the erased id
                ("C000077", "ANN.ERASED@example.org"),  # a new record under the erased email (other case)
                ("C000078", "kept@example.org"),
            ]
        )
    )
    unparsable = Reject("crm_customers.parquet", 4, "signed_up_at", "not a timestamp", '{"customer_id": "C000042"}')
    other = Reject("crm_customers.parquet", 5, "signed_up_at", "not a timestamp", '{"customer_id": "C000079"}')
    delivery.rejects.extend([unparsable, other])
    outcome = TableOutcome()
    loaded = admit(delivery, raw_table("crm_customers"), "load-1", NOW, outcome, fx_coverage, erased)
    assert loaded["customer_id"].to_pylist() == ["C000078"]
    assert (outcome.extracted, outcome.rejects, outcome.notes) == (2, [other], {SUPPRESSED_BY_ERASURE: 3})
    # the new record's id is learnt: its orders, delivered next, are suppressed too, and it is kept in the ledger
    orders, _ = erased.suppress("crm_orders", pa.table({"order_id": ["O7", "O8"], "customer_id": ["C000077", "C9"]}))
    assert orders["order_id"].to_pylist() == ["O8"]
    assert erased.keep_learnt(tmp_path, "load-1", NOW) == 3  # C000077, its other email, order O7
    again = ErasedSubjects.load(tmp_path, KEY)
    lines, dropped = again.suppress("crm_order_lines", pa.table({"order_id": ["O7", "O1", "O9"]}))
    assert (lines["order_id"].to_pylist(), dropped) == (["O9"], 2)

    with pytest.raises(LedgerKeyError, match="set C360_PII_KEY_RETIRED to the key that wrote them"):
        ErasedSubjects.load(tmp_path, NEW_KEY)


NEW_KEY = b"the-key-after-a-rotation-0123456789abcdef"


def test_after_a_key_rotation_the_retired_key_still_recognises_the_erased_and_new_rows_use_the_new_key(
    tmp_path: Path,
) -> None:
    record_erasure(tmp_path, KEY, "r1", NOW, REQUEST, {CUSTOMER_ID: {"C000042"}, EMAIL: {"ann@example.org"}})
    with pytest.raises(LedgerKeyError):  # the old rows cannot be read under the new key alone
        ErasedSubjects.load(tmp_path, NEW_KEY)
    rotated = ErasedSubjects.load(tmp_path, NEW_KEY, [KEY])
    rows = pa.table({"customer_id": ["C000042", "C000077", "C1"], "email": ["x@example.org", " ANN@example.org", None]})
    kept, dropped = rotated.suppress("crm_customers", rows)
    assert (kept["customer_id"].to_pylist(), dropped) == (["C1"], 2)  # matched under the retired key
    unparsable = Reject("customers.csv", 9, "signed_up_at", "not a timestamp", '{"customer_id": "C000042"}')
    assert rotated.suppress_rejects("crm_customers", [unparsable]) == ([], 1)
    # what the suppressed rows revealed is kept under the new key: C000042 and C000077, x@ and ann@ (4 hashes)
    assert rotated.keep_learnt(tmp_path, "load-1", NOW) == 4
    with duckdb.connect(str(ledger_path(tmp_path)), read_only=True) as con:
        fingerprints = con.execute("select key_fingerprint, count(*) from erasures group by 1 order by 2").fetchall()
    assert fingerprints == [(key_fingerprint(KEY), 2), (key_fingerprint(NEW_KEY), 4)]
    again = ErasedSubjects.load(tmp_path, NEW_KEY, [KEY])
    delivered = pa.table({"order_id": ["O1", "O2"], "customer_id": ["C000077", "C2"]})
    orders, dropped = again.suppress("crm_orders", delivered)
    assert (orders["order_id"].to_pylist(), dropped) == (["O2"], 1)  # C000077 is known under the new key now


def test_an_extract_after_a_key_rotation_needs_the_retired_key_and_keeps_the_erased_out(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    customers = xs_tables["crm_customers"]
    erased_id = customers["customer_id"][0].as_py()
    record_erasure(tmp_path, KEY, "r1", NOW, REQUEST, {CUSTOMER_ID: {erased_id}})
    rotated = {
        **os.environ,
        "C360_DATA_DIR": str(tmp_path),
        "C360_SOURCE": "synthetic",
        "C360_PII_KEY": NEW_KEY.decode(),
    }
    extract = Extract(Settings.from_env(rotated))
    write_tables(xs_tables, extract.settings.landing_dir, {})

    refused = extract.run("crm")
    assert not refused.success
    assert "set C360_PII_KEY_RETIRED to the key that wrote them" in failure_messages(refused)
    assert not extract.settings.warehouse_path.exists() or extract.query(
        "select count(*) from information_schema.tables where table_schema = 'raw'"
    ) == [(0,)]  # refused before anything loaded

    extract = Extract(Settings.from_env({**rotated, "C360_PII_KEY_RETIRED": TEST_PII_KEY}))
    assert extract.run("crm").success
    assert extract.query(
        "select count(*), count(*) filter (where customer_id = ?) from raw.crm_customers", [erased_id]
    ) == [(customers.num_rows - 1, 0)]


def test_without_a_ledger_nothing_is_suppressed_and_no_hash_is_computed(tmp_path: Path) -> None:
    erased = ErasedSubjects.load(tmp_path, KEY)
    rows = pa.table({"customer_id": ["C1", None]})
    assert erased.suppress("crm_consents", rows) == (rows, 0)
    assert not ledger_path(tmp_path).exists()


# --- the proof ---------------------------------------------------------------------------------------------------

#: Per-customer published tables whose other rows must be identical after the erasure and the next run.
UNCHANGED = (
    "dim_customer",
    "fct_orders",
    "fct_order_lines",
    "fct_loyalty_events",
    "fct_web_sessions",
    "fct_support_tickets",
    "mart_loyalty",
)
#: mart_customer_360's figures that are the customer's own. RFM scores and segments are quintiles of the whole
#: population, P(alive), churn risk and CLV come from models fitted on all customers, and the lifecycle stage reads
#: them: removing one customer may move them for others, which is right.
OWN_FIGURES = (
    "customer_key, crm_record_count, email_pseudonym, country_code, acquisition_channel_key, signup_date, "
    "first_order_date, last_order_date, order_count, completed_order_count, refunded_order_count, "
    "net_revenue_reporting, average_order_value_reporting, web_session_count, loyalty_points_balance, "
    "loyalty_points_earned, loyalty_tier, support_ticket_count, latest_nps_score, has_email_consent, "
    "has_ad_personalisation_consent"
)


def merged_person(xs_tables: dict[str, pa.Table], xs_truth: dict[str, object], xs_expected) -> list[str]:
    """The CRM ids of a real person identity resolution merged from two records, with orders and logged-in web
    events (so the erasure has every kind of row to find)."""
    customers = xs_expected.customers
    ids_per_person = customers.groupby("person_id")["customer_id"].apply(sorted)
    ordered = set(xs_tables["crm_orders"]["customer_id"].to_pylist())
    logins: dict[str, set[str]] = {}  # device -> the ids it logged in as
    for event in xs_tables["ga4_events"].select(["user_pseudo_id", "user_id"]).to_pylist():
        if event["user_id"]:
            logins.setdefault(event["user_pseudo_id"], set()).add(event["user_id"])
    for ids in ids_per_person:
        devices = [users for users in logins.values() if users & set(ids)]
        # not on a device shared with somebody else: erasing them would rightly re-stitch that person's sessions
        if len(ids) == 2 and set(ids) & ordered and devices and all(users <= set(ids) for users in devices):
            return ids
    raise AssertionError("the XS data has no merged customer with orders and web logins")


def _needles(xs_tables: dict[str, pa.Table], ids: list[str]) -> dict[str, set[str]]:
    """What identifies the person in clear, per kind (ids, emails as delivered and normalised, phones, full names,
    devices and order ids), from the generator's tables."""
    crm = [r for r in xs_tables["crm_customers"].to_pylist() if r["customer_id"] in ids]
    events = [r for r in xs_tables["ga4_events"].to_pylist() if r["user_id"] in ids]
    return {
        "customer id": set(ids),
        "email": {r["email"] for r in crm if r["email"]} | {r["email"].strip().lower() for r in crm if r["email"]},
        "phone": {r["phone"] for r in crm if r["phone"]},
        "name": {f"{r['first_name']} {r['last_name']}" for r in crm if r["first_name"] and r["last_name"]},
        "device": {r["user_pseudo_id"] for r in events},
        "order id": {r["order_id"] for r in xs_tables["crm_orders"].to_pylist() if r["customer_id"] in ids},
    }


def files_holding(data_dir: Path, needles: set[str]) -> list[str]:
    """Files under the data dir, but the landing folder, whose bytes hold any of `needles`."""
    encoded = [n.encode() for n in needles]
    return [
        str(p.relative_to(data_dir))
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and p.relative_to(data_dir).parts[0] != "landing" and any(n in p.read_bytes() for n in encoded)
    ]


def duckdb_values_holding(data_dir: Path, needles: set[str]) -> dict[str, int]:
    """(file, table, column) -> rows whose value is one of `needles`, over every text column of every table of every
    DuckDB file under the data dir (values, not bytes: DuckDB compresses strings, so a byte search alone could miss
    one); JSON records count when they hold a needle as a quoted value, identity-graph node ids
    (`<rank>|<identifier type>|<identifier>`, dbt macro identity_node) when their identifier is one."""
    found: dict[str, int] = {}
    values = pa.table({"v": sorted(needles)})
    for path in sorted(data_dir.rglob("*.duckdb")):
        if path.relative_to(data_dir).parts[0] == "landing":
            continue
        with duckdb.connect(str(path), read_only=True) as con:
            con.register("needles", values)
            catalog = con.execute("select current_database()").fetchall()[0][0]
            columns = con.execute(
                "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
                "join information_schema.tables t using (table_catalog, table_schema, table_name) "
                "where t.table_type = 'BASE TABLE' and c.table_catalog = ? and c.data_type = 'VARCHAR'",
                [catalog],
            ).fetchall()
            assert columns, path
            for schema, table, column in columns:
                n = con.execute(
                    f'select count(*) from "{schema}"."{table}" where "{column}" in (select v from needles) '
                    f"or exists (select 1 from needles where contains(\"{column}\", '\"' || v || '\"')) "
                    f"or regexp_extract(\"{column}\", '^[0-9]+[|][a-z_]+[|](.*)$', 1) in (select v from needles)"
                ).fetchall()[0][0]
                if n:
                    found[f"{path.relative_to(data_dir)}:{schema}.{table}.{column}"] = n
    return found


def postgres_values_holding(dsn: str, needles: set[str]) -> dict[str, int]:
    found = {}
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts' "
            "and data_type in ('text', 'character varying')"
        )
        columns = cur.fetchall()
        assert len(columns) > 20
        for table, column in columns:
            cur.execute(f'select count(*) from marts."{table}" where "{column}" = any(%s)', [sorted(needles)])
            n = cur.fetchone()[0]
            if n:
                found[f"{table}.{column}"] = n
    return found


def _published_rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _rows_of_others(path: Path, table: str, key: str) -> list[tuple]:
    """Every row of `table` but the person's (anonymous rows included), without the load-time columns (`_loaded_at`:
    the next run reloads the landing folder, so incremental facts rewrite it), in a stable order."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns = [
            f'"{c}"'
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            if not c.startswith("_")
        ]
        rows = con.execute(
            f"select {', '.join(columns)} from {table} where customer_key is distinct from ?", [key]
        ).fetchall()
    return sorted(rows, key=repr)


@pytest.mark.slow
@pytest.mark.postgres
def test_erasure_removes_the_whole_person_from_every_copy_and_the_next_run_keeps_them_out(
    tmp_path: Path,
    xs_baseline: Baseline,
    xs_tables: dict[str, pa.Table],
    xs_truth: dict[str, object],
    xs_expected,
    pg_target: PgTarget,
    reader_role: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = merged_person(xs_tables, xs_truth, xs_expected)
    needles = _needles(xs_tables, ids)
    clear = set().union(*needles.values())
    key = pseudonym(min(ids), KEY)  # the person's customer_key in every mart
    marts = [("marts", t) for t in marts_to_publish(Path(dbt_project().manifest_path))]
    env = {"C360_POSTGRES_DSN": pg_target.dsn, "C360_POSTGRES_READER_ROLE": reader_role}
    with copy_baseline(xs_baseline, tmp_path / "data", **env) as ws:
        settings = ws.settings
        live = settings.published_path
        # every copy holds them: PostgreSQL serving, a kept version, a rolled-back copy, the live file
        provision_reader_role(pg_target.dsn, reader_role)
        publish_to_postgres(settings.warehouse_path, marts, pg_target.dsn, "baseline", {}, reader_role=reader_role)
        publish(settings.warehouse_path, live, marts, "again-1", {})
        publish(settings.warehouse_path, live, marts, "again-2", {})
        rollback(live)
        copies = [live, *sorted((live.parent / "versions").iterdir()), *sorted((live.parent / "rolled_back").iterdir())]
        assert len(copies) == 3
        for path in copies:
            assert _published_rows(path, f"select count(*) from dim_customer where customer_key = '{key}'") == [(1,)]
        assert postgres_values_holding(pg_target.dsn, {key})
        assert duckdb_values_holding(settings.data_dir, clear)  # the proof can fail
        others = {table: _rows_of_others(live, table, key) for table in UNCHANGED}
        others_360 = _published_rows(live, f"select {OWN_FIGURES} from mart_customer_360 where customer_key <> '{key}'")
        # their contacts as the activation exports hash them (every shape): no file may hold these either
        hashed = subject_cells(settings.warehouse_path, {key}) - {key}
        assert hashed, "the person has contacts"

        monkeypatch.setenv("C360_DATA_DIR", str(settings.data_dir))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        assert c360_main(["erase", "--customer-id", ids[1]]) == 0  # either record erases the whole person
        printed = capsys.readouterr().out
        assert "2 CRM record(s) of one resolved person" in printed
        assert not clear & set(printed.split()), printed  # counts only, no identifier

        subject = clear | {key}
        assert duckdb_values_holding(settings.data_dir, subject) == {}
        assert files_holding(settings.data_dir, clear | hashed) == []
        assert postgres_values_holding(pg_target.dsn, subject) == {}
        assert [p.stat().st_mode & 0o777 for p in copies] == [0o644, 0o600, 0o600]  # modes kept
        assert c360_main(["erase", "--email", sorted(needles["email"])[0]]) == 1  # nobody left to find

        outcome = ws.run()  # the landing folder still delivers them: the extract suppresses them
        assert outcome.success and outcome.published, outcome.failed_steps
        crm = ws.instance.fetch_materializations(dg.AssetKey(["raw", "crm_customers"]), limit=1).records
        assert crm[0].asset_materialization.metadata[SUPPRESSED_BY_ERASURE].value == 2

        assert duckdb_values_holding(settings.data_dir, subject) == {}
        assert files_holding(settings.data_dir, clear | hashed) == []
        assert postgres_values_holding(pg_target.dsn, subject) == {}
        events = "\n".join(dg.serialize_value(r) for r in ws.instance.all_logs(outcome.run_id))
        assert [n for n in clear if n in events] == []

        for table, rows in others.items():  # everybody else's rows are exactly what they were
            assert _rows_of_others(live, table, key) == rows, table
        assert sorted(_published_rows(live, f"select {OWN_FIGURES} from mart_customer_360")) == sorted(others_360)
