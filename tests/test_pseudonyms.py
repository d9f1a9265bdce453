"""Keyed pseudonyms and the PII key (issue 14): nothing published can be matched to a known id, email or phone
without the key, and the key itself is nowhere a run writes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from orchestration.config import PII_KEY_MIN_LENGTH, THROWAWAY_PII_KEY, Settings, SettingsError
from orchestration.pseudonyms import PSEUDONYM_FUNCTION, keyed_pads, pseudonym, register_pseudonym_function
from orchestration.report import pseudonym_key_line
from orchestration.transform.project import check_pii_key_reaches_dbt, dbt_project
from orchestration.transform.pseudonym_plugin import Plugin
from orchestration.warehouse import connect_published, connect_scratch
from tests.conftest import TEST_PII_KEY, Baseline, ExpectedWarehouse
from tests.reidentification import RECORD_IDS, known_identifiers, re_identified
from tests.secret_scan import files_holding

OTHER_KEY = b"another-key-of-at-least-32-characters-0000"


# --- the function -----------------------------------------------------------------------------------------------


def test_pseudonym_is_rfc_4231_hmac_sha256() -> None:
    # RFC 4231, test case 2
    assert pseudonym("what do ya want for nothing?", b"Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def _sql_pseudonyms(key: bytes, values: list[str | None]) -> list[str | None]:
    with connect_scratch() as con:
        register_pseudonym_function(con, key)
        con.register("ids", pa.table({"id": pa.array(values, pa.string())}))
        return [r[0] for r in con.execute(f"select {PSEUDONYM_FUNCTION}(id) from ids").fetchall()]


def test_sql_pseudonyms_are_stable_for_a_key_and_change_with_another() -> None:
    values = ["C00001", "ann@example.org", "C00001", None, ""]
    first = _sql_pseudonyms(TEST_PII_KEY.encode(), values)
    assert first == _sql_pseudonyms(TEST_PII_KEY.encode(), values)  # stable across connections and calls
    assert first == [pseudonym(v, TEST_PII_KEY.encode()) if v is not None else None for v in values]  # = Python's
    assert first[0] == first[2] and first[3] is None and len(set(first[:2] + first[4:])) == 3
    other = _sql_pseudonyms(OTHER_KEY, values)
    assert all(a != b for a, b in zip(first, other, strict=True) if a is not None)  # every pseudonym changes


def test_the_sql_macro_is_hmac_sha256_for_keys_shorter_and_longer_than_a_block() -> None:
    # RFC 4231 test case 6: a 131-byte key, longer than SHA-256's 64-byte block, is hashed first
    assert _sql_pseudonyms(b"\xaa" * 131, ["Test Using Larger Than Block-Size Key - Hash Key First"]) == [
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    ]
    values = ["C00001", "ann@example.org", "é ü 日本", "x" * 200]
    for key in (b"Jefe", b"k" * 63, b"k" * 64, b"k" * 65, TEST_PII_KEY.encode()):
        assert _sql_pseudonyms(key, values) == [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in values]


def test_the_function_works_on_a_read_only_warehouse_and_writes_nothing_to_it(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table ids as select 'C00001' as id")
    before = path.read_bytes()
    with duckdb.connect(str(path), read_only=True) as con:  # e.g. dbt show, or a reader checking a pseudonym
        register_pseudonym_function(con, OTHER_KEY)
        assert con.execute(f"select {PSEUDONYM_FUNCTION}(id) from ids").fetchall() == [
            (pseudonym("C00001", OTHER_KEY),)
        ]
    assert path.read_bytes() == before


def test_a_query_plan_shows_how_the_pseudonym_is_computed_never_the_keyed_pads() -> None:
    """A session variable holding a pad would be folded into the plan as a BLOB literal (EXPLAIN, profiles)."""
    key = TEST_PII_KEY.encode()
    with connect_scratch() as con:
        register_pseudonym_function(con, key)
        con.execute("create table ids as select 'C0000' || range as id from range(3)")
        query = f"explain analyze select {PSEUDONYM_FUNCTION}(id) from ids"
        plan = "\n".join(row[1] for row in con.execute(query).fetchall())
        as_sql = [con.execute("select ?::blob::varchar", [pad]).fetchone()[0] for pad in keyed_pads(key)]
    assert "sha256" in plan
    assert [form for form in [*as_sql, *(f.decode(errors="replace") for f in _key_forms())] if form in plan] == []


def test_the_dbt_plugin_keys_the_function_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C360_PII_KEY", OTHER_KEY.decode())
    with connect_scratch() as con:
        Plugin(name="pseudonyms", plugin_config={}).configure_connection(con)
        assert con.execute(f"select {PSEUDONYM_FUNCTION}('C00001')").fetchone()[0] == pseudonym("C00001", OTHER_KEY)


def test_the_dbt_macro_calls_the_keyed_function_and_never_holds_a_key() -> None:
    macros = (Path(dbt_project().project_dir) / "macros" / "pseudonym.sql").read_text()
    assert f"{PSEUDONYM_FUNCTION}(cast({{{{ expression }}}} as" in macros
    assert "var(" not in macros and "env_var(" not in macros


# --- the key setting --------------------------------------------------------------------------------------------


def test_the_key_comes_from_the_variable_or_a_file_and_is_validated(tmp_path: Path) -> None:
    key = "k" * PII_KEY_MIN_LENGTH
    assert Settings.from_env({"C360_PII_KEY": key}).pii_key == key.encode()
    (tmp_path / "key").write_text(key + "\n")
    from_file = Settings.from_env({"C360_PII_KEY_FILE": str(tmp_path / "key"), "C360_ENV": "prod"})
    assert (from_file.pii_key, from_file.pii_key_is_throwaway) == (key.encode(), False)
    assert key not in repr(from_file)
    demo = Settings.from_env({})
    assert (demo.pii_key, demo.pii_key_is_throwaway) == (THROWAWAY_PII_KEY.encode(), True)
    assert "THROWAWAY" in pseudonym_key_line(demo) and "THROWAWAY" not in pseudonym_key_line(from_file)
    short = "s" * (PII_KEY_MIN_LENGTH - 1)
    with pytest.raises(SettingsError, match=f"key of {PII_KEY_MIN_LENGTH - 1} characters") as error:
        Settings.from_env({"C360_PII_KEY": short})
    assert short not in str(error.value)
    with pytest.raises(SettingsError, match="not an absolute path"):
        Settings.from_env({"C360_PII_KEY_FILE": "key"})
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_env({"C360_PII_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(SettingsError, match="C360_ENV=prod needs a PII key"):
        Settings.from_env({"C360_ENV": "prod"})


def test_retired_keys_are_read_whole_never_printed_and_validated() -> None:
    old, older = "o" * PII_KEY_MIN_LENGTH, "p" * (PII_KEY_MIN_LENGTH + 3)
    settings = Settings.from_env({"C360_PII_KEY_RETIRED": f" {old}  {older} "})
    assert settings.pii_keys_retired == (old.encode(), older.encode())
    assert old not in repr(settings) and older not in repr(settings)
    assert Settings.from_env({}).pii_keys_retired == ()
    with pytest.raises(SettingsError, match=f"key 2 has {PII_KEY_MIN_LENGTH - 1} characters") as error:
        Settings.from_env({"C360_PII_KEY_RETIRED": f"{old} {old[:-1]}"})
    assert old[:-1] not in str(error.value)


def test_a_job_refuses_to_build_when_dbt_would_see_another_key() -> None:
    check_pii_key_reaches_dbt(Settings.from_env({"C360_PII_KEY": TEST_PII_KEY}))  # the session's environment
    with pytest.raises(SettingsError, match="where dbt reads it"):
        check_pii_key_reaches_dbt(Settings.from_env({"C360_PII_KEY": OTHER_KEY.decode()}))


# --- the attack on a real run's published file --------------------------------------------------------------------


def _published_values(path: Path) -> dict[str, set[str]]:
    """Every distinct non-null value of every column of every published table, as text: `table.column` -> values."""
    values: dict[str, set[str]] = {}
    with connect_published(path) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'main'"
        ).fetchall()
        for table, column in columns:
            sql = f'select distinct cast("{column}" as varchar) from "{table}" where "{column}" is not null'
            values[f"{table}.{column}"] = {r[0] for r in con.execute(sql).fetchall()}
    return values


def test_the_attack_finds_main_s_unkeyed_columns_and_not_keyed_ones(xs_tables: dict[str, pa.Table]) -> None:
    """The attack can fail: the columns published before keying (raw customer_id, email_sha256, md5 customer and
    anonymous-visitor keys) are each found; the same identifiers keyed are not."""
    customers, events = xs_tables["crm_customers"], xs_tables["ga4_events"]
    known = known_identifiers(xs_tables)
    customer_id, email = customers["customer_id"][0].as_py(), customers["email"][0].as_py()
    device = events["user_pseudo_id"][0].as_py()
    order_id, ticket_id = (xs_tables[t][c][0].as_py() for t, c in (RECORD_IDS["order id"], RECORD_IDS["ticket id"]))
    old = {
        customer_id,
        hashlib.sha256(email.strip().lower().encode()).hexdigest(),
        hashlib.md5(f"4|user_pseudo_id|{device}".encode()).hexdigest(),
        hashlib.md5(order_id.encode()).hexdigest(),  # fct_orders.order_key before keying
        ticket_id,  # fct_support_tickets.ticket_id before keying
    }
    found = re_identified(known, old)
    assert [found[k] for k in ("customer id", "email", "node label", "order id", "ticket id")] == [1, 1, 1, 1, 1]
    keyed = {pseudonym(v, TEST_PII_KEY.encode()) for v in (customer_id, email, device, order_id, ticket_id)}
    assert re_identified(known, keyed) == dict.fromkeys(known, 0)


@pytest.mark.slow
def test_no_published_value_re_identifies_a_person_without_the_key(
    xs_baseline: Baseline, xs_tables: dict[str, pa.Table], xs_expected: ExpectedWarehouse
) -> None:
    published = _published_values(xs_baseline.settings.published_path)
    known = known_identifiers(xs_tables)
    assert set(RECORD_IDS) <= set(known)
    found = re_identified(known, set().union(*published.values()))
    assert found == dict.fromkeys(known, 0), found
    # The control: with the key, the same file does give every customer back (so the scan read the right columns and
    # the run used the configured key, not the throwaway one). The key is the primary (smallest) CRM id's pseudonym.
    key = TEST_PII_KEY.encode()
    primary = xs_expected.customers.groupby("person_id")["customer_id"].min()
    assert published["dim_customer.customer_key"] == {pseudonym(c, key) for c in primary}
    emails = dict(zip(*(xs_tables["crm_customers"][c].to_pylist() for c in ("customer_id", "email")), strict=True))
    expected_emails = {pseudonym(emails[c].strip().lower(), key) for c in primary if emails[c] and emails[c].strip()}
    assert published["dim_customer.email_pseudonym"] == expected_emails
    assert not [c for c in published if c.endswith(("_sha256", ".customer_id", ".user_pseudo_id", ".email"))]


# --- the key never reaches what a run writes ---------------------------------------------------------------------


def _key_forms() -> list[bytes]:
    """The key, and HMAC's keyed pads the SQL macro reads from its in-memory keyring (either pad gives the key back)."""
    key = TEST_PII_KEY.encode()
    encodings = (lambda b: b, lambda b: b.hex().encode(), lambda b: b.hex().upper().encode(), base64.b64encode)
    return [encode(form) for form in (key, *keyed_pads(key)) for encode in encodings]


@pytest.mark.slow
def test_the_key_is_in_no_file_artifact_log_event_or_tag_of_a_run(xs_baseline: Baseline) -> None:
    needles = _key_forms()
    run_id = xs_baseline.outcome.run_id
    # the data dir: warehouse, published file and versions, reports, dlt and dbt state, the dbt profile, alerts
    assert files_holding([xs_baseline.data_dir], needles) == []
    # dbt's target dirs of this run (compiled and run SQL, manifest, run_results, dbt.log)
    target = Path(dbt_project().project_dir) / "target"
    run_dirs = [d for d in target.iterdir() if d.is_dir() and f"-{run_id[:7]}-" in d.name]
    assert len(run_dirs) == 1, run_dirs  # the run's one dbt build
    assert files_holding(run_dirs, needles) == []
    assert "dim_customer" in (run_dirs[0] / "dbt.log").read_text()  # the operator's dbt log is written, without it
    compiled = [p.read_text() for d in run_dirs for p in (d / "compiled").rglob("dim_customer.sql")]
    assert compiled and f"{PSEUDONYM_FUNCTION}(" in compiled[0]  # the artifacts do show how, never with what
    # the Dagster event log (every log line, materialization metadata, check result) and the run's tags
    records = xs_baseline.instance.all_logs(run_id)
    assert len(records) > 100
    text = "\n".join(dg.serialize_value(r) for r in records).encode()
    tags = repr(xs_baseline.instance.get_run_by_id(run_id).tags).encode()
    assert [n for n in needles if n in text or n in tags] == []
    assert hmac.compare_digest(xs_baseline.settings.pii_key, TEST_PII_KEY.encode())  # the run did use this key
