"""The `files` source: generator output written as vendor exports loads to the same raw tables as the embedded
Parquet; re-deliveries merge; drift is kept; unusable files fail naming the file."""

from __future__ import annotations

import csv
import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from orchestration.config import REPO_ROOT
from orchestration.extract.delivery import DeliveryError
from orchestration.extract.dlt_sources import empty_raw_tables
from orchestration.extract.ledger import discard_load
from orchestration.extract.raw_contract import RAW_TABLES, ga4_event_id, raw_table
from orchestration.extract.vendor_files import read_files_delivery
from orchestration.extract.vendor_files.columnar import read_strings
from orchestration.extract.vendor_files.export_reader import LOCAL_TIME_NOTE
from orchestration.extract.vendor_files.ga4_columnar import ga4_columns
from orchestration.extract.vendor_files.mappings import DERIVED, FILE_SPECS
from orchestration.extract.vendor_files.reference_doc import END, START, reference_markdown
from orchestration.publish.publisher import PUBLISH_LOG, published_tables
from orchestration.publish.retention import prune_landing
from orchestration.warehouse import connect_scratch
from simulator.landing_writer import write_tables
from simulator.vendor_exports import COUNTRY_TIMEZONE, write_files
from tests.conftest import XS, Baseline, ExpectedWarehouse, built_once, make_workspace
from tests.extract_fixtures import Extract, failure_messages, settings_for


def _extract(tmp: Path, source: str, tables: dict[str, pa.Table], *systems: str) -> Extract:
    extract = Extract(settings_for(tmp, source))
    if source == "files":
        write_files(tables, extract.settings.landing_dir)
    else:
        write_tables(tables, extract.settings.landing_dir, {})
    result = extract.run(*systems)
    assert result.success, failure_messages(result)
    return extract


def _rewrite_csv(path: Path, edit) -> None:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows = edit(rows)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def _contract_rows(extract: Extract, table: str) -> list[tuple]:
    spec = raw_table(table)
    columns = ", ".join(c.name for c in spec.columns)
    return extract.query(f"select {columns} from raw.{table} order by {', '.join(spec.primary_key)}")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory, xs_tables: dict[str, pa.Table]) -> tuple[Extract, Extract]:
    """The XS data extracted from Parquet and from vendor files, once per session; the tests only read them."""

    def build(root: Path) -> None:
        _extract(root / "synthetic", "synthetic", xs_tables)
        _extract(root / "files", "files", xs_tables)

    root = built_once(tmp_path_factory, "files_vs_synthetic", build)
    return Extract(settings_for(root / "synthetic", "synthetic")), Extract(settings_for(root / "files", "files"))


def test_every_contract_table_has_a_file_mapping_covering_its_columns() -> None:
    assert {s.table for s in FILE_SPECS} == {t.name for t in RAW_TABLES}
    for table in RAW_TABLES:
        spec = next(s for s in FILE_SPECS if s.table == table.name)
        mapped = [f.column for f in spec.loaded] + list(DERIVED.get(table.name, ()))
        assert sorted(mapped) == sorted(c.name for c in table.columns), table.name


def test_files_load_the_same_raw_rows_as_the_synthetic_source(
    both: tuple[Extract, Extract], xs_tables: dict[str, pa.Table]
) -> None:
    synthetic, files = both
    for table in RAW_TABLES:
        if table.name == "ga4_events":
            continue
        assert _contract_rows(files, table.name) == _contract_rows(synthetic, table.name), table.name
    assert files.ledger() == synthetic.ledger()
    assert files.ledger() == {t: (n.num_rows, n.num_rows, 0) for t, n in xs_tables.items()}
    orders = xs_tables["crm_orders"]["order_total"].to_pylist()
    revenue = "select count(*), sum(order_total::decimal(18, 2)) from raw.crm_orders"
    assert files.query(revenue) == synthetic.query(revenue) == [(len(orders), sum(Decimal(str(t)) for t in orders))]


def test_ga4_events_get_the_derived_event_id_and_the_same_values(
    both: tuple[Extract, Extract], xs_tables: dict[str, pa.Table]
) -> None:
    synthetic, files = both
    events = xs_tables["ga4_events"]
    expected = sorted(
        ga4_event_id(events["user_pseudo_id"], events["event_timestamp"], events["event_name"]).to_pylist()
    )
    assert [r[0] for r in files.query("select event_id from raw.ga4_events order by event_id")] == expected
    columns = ", ".join(c.name for c in raw_table("ga4_events").columns if c.name != "event_id")
    order = "order by user_pseudo_id, event_timestamp, event_name"
    assert files.query(f"select {columns} from raw.ga4_events {order}") == synthetic.query(
        f"select {columns} from raw.ga4_events {order}"
    )


#: Cells of every kind in the plain shapes the column parsers decide and in the odd ones they must leave to the cell
#: parsers: both readers have to agree on each value and each quarantine reason.
ODD_CELLS = {
    "int": ["7", "-12", "007", " 5", "+5", "1_000", "1e3", "12.0", "abc", "99999999999999999999", "\u0663"],
    "float": ["32.61", "-0.5", "1,234.50", " 3.5 ", "1e3", ".5", "5.", "nan", "inf", "abc", "0.1000000000000000055511"],
    "yes_no": ["yes", "No", " TRUE ", "y", "0", "maybe", "Yes", "N"],
    "timestamp": [
        "2026-07-05 23:28:54",
        "2026-07-05 23:28:54 -0400",
        "2026-07-05 23:28:54 +0000",
        "2026-02-30 10:00:00",
        "2024-02-29 10:00:00 +0530",
        "2026-07-05T23:28:54Z",
        "2026-7-5 3:4:5",
        " 2026-07-05 23:28:54 ",
        "2026-07-05 24:00:00",
        "2026-07-05 23:59:60",
        "9999-12-31 23:00:00 -0100",
        "0001-01-01 00:30:00 +0100",
        "2026-07-05 23:28:54 +2400",
        "yesterday",
        "\u0662\u0660\u0662\u0666-07-05 23:28:54",
    ],
    "date": ["2026-07-05", "2026-02-29", "2024-02-29", "20260705", "2026-7-5", " 2026-07-05", "0000-01-01", "x"],
    "text": ["has, comma", "multi\nline", 'quote "inside"', "  spaces  ", "\u00fcn\u00efcode"],
    "micros_from_units": ["12.34", "1,234.5", "abc", "0.0000001", "-3"],
    "shopify_financial_status": ["paid", "PAID", " refunded ", "partially_refunded", "p\u00e4id"],
}
ODD_CELLS["local_timestamp"] = ODD_CELLS["timestamp"]


def _read_both(landing: Path, table: str) -> tuple[object, object]:
    return (
        read_files_delivery(landing, raw_table(table), columnar=True),
        read_files_delivery(landing, raw_table(table), columnar=False),
    )


def test_the_columnar_csv_reader_reads_what_the_cell_by_cell_reader_reads(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    """Every CSV table of the XS delivery with odd cells of every kind written into its first rows: the same
    values, row numbers, quarantine rows and repair counts, and the file was really read column-wise."""
    write_files(xs_tables, tmp_path)
    csv_specs = [s for s in FILE_SPECS if s.format == "csv"]
    for spec in csv_specs:
        path = next(iter((tmp_path / spec.folder).glob(f"{spec.stem}*.csv")))
        odd_rows = max(len(ODD_CELLS[f.kind]) for f in spec.loaded)

        def oddify(rows: list[list[str]], spec=spec, odd_rows=odd_rows) -> list[list[str]]:
            header = rows[0]
            for field in spec.loaded:
                if field.header in header:
                    i, cells = header.index(field.header), ODD_CELLS[field.kind]
                    for n in range(1, min(odd_rows, len(rows) - 1) + 1):
                        rows[n][i] = cells[(n - 1) % len(cells)] if n % 7 else ""  # and some empty cells
            return rows

        _rewrite_csv(path, oddify)
        with path.open(newline="") as handle:
            assert read_strings(path, next(csv.reader(handle))) is not None, path  # regular: read column-wise
        columnar, by_cell = _read_both(tmp_path, spec.table)
        assert columnar.table.equals(by_cell.table), spec.table
        assert columnar.rejects == by_cell.rejects and columnar.notes == by_cell.notes, spec.table
        assert by_cell.rejects, spec.table  # the odd cells did reach the cell parsers' reasons

    orders = next((tmp_path / "crm").glob("orders*.csv"))
    with orders.open("a", newline="") as handle:
        handle.write("\n#X,short,row\n")  # a blank line and a ragged row: not regular, read cell by cell
    with orders.open(newline="") as handle:
        assert read_strings(orders, next(csv.reader(handle))) is None
    columnar, by_cell = _read_both(tmp_path, "crm_orders")
    assert columnar.table.equals(by_cell.table) and columnar.rejects == by_cell.rejects


def test_order_times_are_written_in_local_time_and_counted_when_repaired(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    write_files(xs_tables, tmp_path)
    customers = xs_tables["crm_customers"]
    zone = dict(zip(customers["customer_id"].to_pylist(), customers["country_code"].to_pylist(), strict=True))
    orders = xs_tables["crm_orders"].to_pylist()
    local = sum(
        1
        for o in orders
        if o["ordered_at"].astimezone(ZoneInfo(COUNTRY_TIMEZONE[zone[o["customer_id"]]])).utcoffset() != timedelta(0)
    )
    assert 0 < local < len(orders)
    delivery = read_files_delivery(tmp_path, raw_table("crm_orders"))
    assert delivery.notes == {LOCAL_TIME_NOTE: local}
    assert delivery.table["ordered_at"].to_pylist() == [o["ordered_at"].astimezone(UTC) for o in orders]
    first = (tmp_path / "crm" / "orders.csv").read_text().splitlines()[1]
    # Pinned on purpose: the literal is the vendor's text shape (Name '#<id>', the shop's local time with its UTC
    # offset, 'paid' for a completed order). XS seed 7's first order is a US customer's: New York summer time.
    assert first == "#O00000001,O00000001,C0000003,2026-07-05 23:28:54 -0400,USD,32.61,paid,2026-07-05 23:28:54 -0400"


def test_double_delivery_changed_order_and_late_rows(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    orders = xs_tables["crm_orders"]
    assert orders.num_rows > 1_000
    early = {**xs_tables, "crm_orders": orders.slice(0, 1_000)}  # the remaining orders arrive in a later delivery
    extract = _extract(tmp_path, "files", early, "crm")
    before = _contract_rows(extract, "crm_orders")
    assert len(before) == 1_000

    assert extract.run("crm").success  # the same files again: nothing new to read
    assert _contract_rows(extract, "crm_orders") == before
    assert extract.query("select count(distinct _load_id) from raw.crm_orders") == [(1,)]
    assert extract.ledger()["crm_orders"] == (0, 0, 0)

    write_files(xs_tables, extract.settings.landing_dir)  # late rows: the complete export
    path = extract.settings.landing_dir / "crm" / "orders.csv"
    _rewrite_csv(path, lambda rows: [rows[0], [*rows[1][:5], "99.5", "refunded", rows[1][7]], *rows[2:]])
    assert extract.run("crm").success
    after = {r[0]: r for r in _contract_rows(extract, "crm_orders")}
    assert len(after) == orders.num_rows
    assert (after["O00000001"][4], after["O00000001"][5]) == (99.5, "refunded")  # updated, not duplicated
    assert extract.ledger()["crm_orders"] == (orders.num_rows, orders.num_rows, 0)


def test_a_load_appends_only_to_raw_tables_that_are_missing_or_empty() -> None:
    """The first load of a table is an append (no staging copy); any later one merges on the key (the test above)."""
    with connect_scratch() as con:
        con.execute("create schema raw; create table raw.crm_orders (order_id varchar)")
        con.execute("create table raw.crm_customers as select 'C1' as customer_id")
        tables = ["crm_orders", "crm_customers", "crm_products"]
        assert empty_raw_tables(con, "raw", tables) == {"crm_orders", "crm_products"}


def _deliveries(extract: Extract) -> dict[str, tuple[int, str]]:
    """Newest load per table: (rows_extracted, delivery kind)."""
    rows = extract.query(
        "select table_name, rows_extracted, delivery from audit.loads "
        "qualify row_number() over (partition by table_name order by load_id desc) = 1"
    )
    return {t: (n, kind) for t, n, kind in rows}


def test_an_extract_reads_only_the_files_no_kept_load_read(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    """A day's new GA4 file and a re-exported orders file are read; unchanged files are not, nor opened for the
    up-front header check (their rows are in raw, the load is a delta); after a discarded load its tables are read
    whole again."""
    extract = Extract(settings_for(tmp_path, "files"))
    landing = extract.settings.landing_dir
    write_files(xs_tables, landing)
    days = sorted((landing / "ga4").glob("events_*.jsonl"))
    held_back = tmp_path / days[-1].name
    days[-1].rename(held_back)  # the newest day arrives later
    assert extract.run("crm", "ga4").success
    first = _deliveries(extract)
    assert {kind for _, kind in first.values()} == {"snapshot"}

    products = landing / "crm" / "products.csv"  # read by the first load; now unreadable, same size and time
    stat = products.stat()
    products.write_bytes(b"\xff" * stat.st_size)
    os.utime(products, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    unchanged = extract.run("crm", "ga4")  # nothing new, nothing opened
    assert unchanged.success, failure_messages(unchanged)
    assert _deliveries(extract) == dict.fromkeys(first, (0, "delta"))

    held_back.rename(days[-1])
    day_events = sum(1 for line in days[-1].read_text().splitlines() if line.strip())
    _rewrite_csv(
        landing / "crm" / "orders.csv", lambda rows: [rows[0], [*rows[1][:6], "refunded", rows[1][7]], *rows[2:]]
    )
    assert extract.run("crm", "ga4").success
    third = _deliveries(extract)
    orders, events = xs_tables["crm_orders"].num_rows, xs_tables["ga4_events"].num_rows
    assert third.pop("ga4_events") == (day_events, "delta")  # only the new day
    assert third.pop("crm_orders") == (orders, "snapshot")  # its one file changed: read whole
    assert third == dict.fromkeys(third, (0, "delta"))
    assert extract.query("select count(*) from raw.ga4_events") == [(events,)]
    assert extract.query("select status from raw.crm_orders where order_id = 'O00000001'") == [("refunded",)]

    load_id = extract.query("select max(load_id) from audit.loads where table_name = 'ga4_events'")[0][0]
    discard_load(extract.settings.warehouse_path, load_id, datetime.now(UTC))  # a gate rejected the web load
    assert extract.query("select count(*) from raw.ga4_events") == [(events - day_events,)]
    assert extract.run("crm", "ga4").success
    after = _deliveries(extract)
    assert (after["ga4_events"], after["crm_orders"]) == ((events, "snapshot"), (0, "delta"))  # web read whole
    assert extract.query("select count(*) from raw.ga4_events") == [(events,)]


def _ga4_event(n: int, *params: dict, **keys: object) -> dict:
    """An export event: the required keys, a device, drift keys, the given params and keys (None: key left out)."""
    event = {
        "event_date": "20260801",
        "event_timestamp": str(1785542400000000 + n),
        "event_name": "page_view",
        "user_pseudo_id": f"{n}.1785542400",
        "user_id": f"C{n}",
        "event_params": [{"key": "ga_session_id", "value": {"int_value": 1785542400 + n}}, *params],
        "device": {"category": "mobile", "language": "de-de"},
        "platform": "WEB",
        "items": [],
        "is_test": False,
        "big_number": None,
    }
    event.update(keys)
    return {k: v for k, v in event.items() if v is not None or k not in keys}


def _param(key: str, **typed: object) -> dict:
    return {"key": key, "value": typed}


#: Events the column reader must flatten exactly as flatten_ga4 does, or leave to it (each line is one event).
ODD_EVENTS = [
    json.dumps(_ga4_event(1, _param("page_location", string_value="https://shop.example.com/caf\u00e9 \u2713"))),
    json.dumps(_ga4_event(2, _param("value", double_value=1e-7), _param("page_title", string_value="Ünïcødé"))),
    json.dumps(_ga4_event(3, _param("value", double_value=2.0), _param("value_x", float_value=100.0))),
    json.dumps(_ga4_event(4, _param("value", double_value=1.5), _param("campaign", string_value=None, int_value=None))),
    json.dumps(_ga4_event(5, _param("no_value_given"), big_number=123456789012345678901234567890)),
    "",
    "   ",
    json.dumps(_ga4_event(6, event_params=[])),
    json.dumps(_ga4_event(7, event_params=None)),  # left out
    json.dumps({**_ga4_event(8), "event_params": None}),  # given as null: a header of its own
    json.dumps(_ga4_event(9, device={"category": None, "language": None}, user_id=None, platform=None)),
    json.dumps({**_ga4_event(10), "device": None}),
    json.dumps(_ga4_event(11, _param("page_location", string_value="a"), _param("page_location", string_value="b"))),
    json.dumps(_ga4_event(12, {"value": {"string_value": "no key"}})),  # malformed params: quarantined
    json.dumps(_ga4_event(13, _param("flag", string_value="x"), items=[{"item_id": "SKU-1"}], is_test=True)),
    json.dumps(_ga4_event(14, event_timestamp="not a time", is_test=False)),
    json.dumps(_ga4_event(15, _param("value", double_value=1e-05), _param("score", int_value=-(2**63)))),
    json.dumps(_ga4_event(16, {"key": "ga_session_id", "value": {"string_value": str(2**63)}})),
]


def _assert_same_ga4_delivery(landing: Path) -> None:
    columnar, by_event = _read_both(landing, "ga4_events")
    assert columnar.table.equals(by_event.table)
    assert columnar.rejects == by_event.rejects and columnar.notes == by_event.notes


def test_the_columnar_ga4_reader_reads_what_the_event_by_event_reader_reads(
    tmp_path: Path, xs_tables: dict[str, pa.Table]
) -> None:
    """The XS GA4 export and a file of odd events: the same values, drift columns (in the same order), line numbers,
    quarantine rows and reasons, and both files were really read column-wise."""
    write_files(xs_tables, tmp_path / "xs")
    assert all(ga4_columns(p) is not None for p in (tmp_path / "xs" / "ga4").glob("events_*.jsonl"))
    _assert_same_ga4_delivery(tmp_path / "xs")

    odd = tmp_path / "odd" / "ga4" / "events_20260801.jsonl"
    odd.parent.mkdir(parents=True)
    odd.write_text("\n".join(ODD_EVENTS) + "\n", encoding="utf-8")
    columns = ga4_columns(odd)
    assert columns is not None and pc.sum(columns.certain).as_py() == 10  # the others are left to the row reader
    _assert_same_ga4_delivery(tmp_path / "odd")
    by_event = read_files_delivery(tmp_path / "odd", raw_table("ga4_events"), columnar=False)
    assert [r.row_number for r in by_event.rejects] == [14, 16, 18]  # malformed params, a bad time, an int64 overflow
    assert {"device", "event_params", "event_params_page_title", "items", "is_test"} <= set(by_event.table.column_names)


@pytest.mark.parametrize(
    ("ending", "last", "columnar"),
    [("\r\n", "\r\n", True), ("\n", "", True), ("\r\n", "", True), ("\r", "\r", False)],
    ids=["crlf", "no-final-newline", "crlf-no-final-newline", "lone-cr"],
)
def test_ga4_line_ends_give_the_same_events_and_line_numbers(
    tmp_path: Path, ending: str, last: str, columnar: bool
) -> None:
    """Windows line ends, a last line without its end, blank lines: the columns cut the lines where Python's text
    reading does (the same rows, rejects and line numbers). A lone CR, which Python also ends a line at, is left to
    the event-by-event reader."""
    path = tmp_path / "ga4" / "events_20260801.jsonl"
    path.parent.mkdir()
    path.write_bytes((ending.join(ODD_EVENTS) + last).encode())
    assert (ga4_columns(path) is not None) == columnar
    _assert_same_ga4_delivery(tmp_path)
    by_event = read_files_delivery(tmp_path, raw_table("ga4_events"), columnar=False)
    assert [r.row_number for r in by_event.rejects] == [14, 16, 18]


@pytest.mark.parametrize(
    "lines",
    [
        ['{"event_name": "a", "n": 1}', '{"event_name": "b", "n": "1"}'],  # a type changing: Arrow refuses
        ['{"event_name": "a"}', '{"event_name": "b", "later": null}'],  # a key after the first event
        ['{"event_name": "a"}', '{"event_name": "b", "event_name": "c"}'],  # a key given twice
        ['{"event_name": "a", "x.y": 1, "x": {"y": 2}}'],  # dotted paths that collide
        ['{"event_name": "a"}{"event_name": "b"}', ""],  # two events on a line
        ["\ufeff" + '{"event_name": "a"}'],  # a byte order mark
    ],
)
def test_a_ga4_file_the_columns_cannot_be_sure_of_is_read_event_by_event(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "ga4" / "events_20260801.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ga4_columns(path) is None


def test_a_ga4_file_that_is_not_utf8_is_left_to_the_event_by_event_reader_which_names_it(tmp_path: Path) -> None:
    """Arrow's JSON reader takes any bytes inside a string, so the columns check the file's UTF-8 first."""
    path = tmp_path / "ga4" / "events_20260801.jsonl"
    path.parent.mkdir()
    bad = json.dumps(_ga4_event(2)).encode().replace(b'"C2"', b'"C\xff"')
    path.write_bytes(json.dumps(_ga4_event(1)).encode() + b"\n" + bad + b"\n")
    assert ga4_columns(path) is None
    with pytest.raises(DeliveryError, match=f"{path}: not a UTF-8 JSONL file"):
        read_files_delivery(tmp_path, raw_table("ga4_events"))


def test_a_new_vendor_column_is_carried_into_raw(tmp_path: Path, xs_tables: dict[str, pa.Table]) -> None:
    extract = Extract(settings_for(tmp_path, "files"))
    write_files(xs_tables, extract.settings.landing_dir)
    path = extract.settings.landing_dir / "crm" / "orders.csv"
    _rewrite_csv(path, lambda rows: [rows[0] + ["Gift Card (EUR)"]] + [r + [str(i)] for i, r in enumerate(rows[1:])])
    assert extract.run("crm").success
    n = xs_tables["crm_orders"].num_rows
    assert extract.query("select count(*), sum(gift_card_eur::int) from raw.crm_orders") == [(n, sum(range(n)))]


def test_a_missing_required_column_fails_naming_file_and_column(tmp_path: Path, xs_tables: dict[str, pa.Table]):
    extract = Extract(settings_for(tmp_path, "files"))
    write_files(xs_tables, extract.settings.landing_dir)
    path = extract.settings.landing_dir / "crm" / "orders.csv"
    _rewrite_csv(path, lambda rows: [r[:3] + r[4:] for r in rows])  # drop "Created at"
    result = extract.run()
    assert not result.success
    failed = [e.step_key for e in result.get_step_failure_events()]
    assert sorted(failed) == ["extract_ads", "extract_crm", "extract_ga4"]  # checked as a whole before any loads
    assert "crm/orders.csv: column 'Created at' missing (raw.crm_orders.ordered_at)" in failure_messages(result)


@pytest.mark.parametrize(
    ("relative", "content", "problem"),
    [
        ("ga4/events_20260801.jsonl", b'{"event_name": "page_view"}\n{not json\n', "line 2 is not valid JSON"),
        ("google_ads/campaign_report.csv", b"\xff\xfe\x00\x81junk", "not a readable UTF-8 CSV file"),
    ],
)
def test_an_unparseable_file_fails_its_extract_naming_the_file(
    tmp_path: Path, xs_tables: dict[str, pa.Table], relative: str, content: bytes, problem: str
) -> None:
    extract = Extract(settings_for(tmp_path, "files"))
    write_files(xs_tables, extract.settings.landing_dir)
    path = extract.settings.landing_dir / relative
    path.write_bytes(content)
    result = extract.run()
    # Found by the check of the whole delivery (headers, first events) before any source loads: nothing loads.
    assert sorted(e.step_key for e in result.get_step_failure_events()) == ["extract_ads", "extract_crm", "extract_ga4"]
    assert f"{path}: {problem}" in failure_messages(result)


def _published_figures(published_path: Path) -> tuple[dict[str, int], tuple]:
    counts = {t: n for t, n in published_tables(published_path).items() if t != PUBLISH_LOG}
    with duckdb.connect(str(published_path), read_only=True) as con:
        revenue = con.execute(
            "select (select sum(net_revenue_reporting) from fct_orders), "
            "(select sum(net_revenue_reporting) from mart_customer_360), (select sum(monetary_reporting) from mart_rfm)"
        ).fetchall()[0]
    return counts, revenue


@pytest.mark.slow
def test_full_pipeline_on_files_publishes_what_synthetic_publishes_and_retention_later_keeps_the_newest_files(
    tmp_path: Path, xs_baseline: Baseline, xs_tables: dict[str, pa.Table], xs_expected: ExpectedWarehouse
) -> None:
    """The same XS data as vendor exports, run end to end, publishes what the session's clean synthetic run did. The
    run records every file it read, stamped published by its retention step; landing retention (issue 14) later
    deletes all but the newest file per table."""
    with make_workspace(tmp_path, {}, C360_SOURCE="files") as ws:
        write_files(xs_tables, ws.settings.landing_dir, {"end_date": XS.end_date})
        outcome = ws.run()
    assert outcome.success and outcome.published, outcome.failed_steps
    figures = _published_figures(ws.settings.published_path)
    assert figures == _published_figures(xs_baseline.settings.published_path)
    counts, revenue = figures
    # Resolved people and their orders, test accounts left out: the generator's truth, not the warehouse's answer.
    assert (counts["fct_orders"], counts["mart_customer_360"]) == (len(xs_expected.orders), xs_expected.persons)
    assert revenue[0] == revenue[1] == revenue[2] > 0

    assert "published/retention" in outcome.materialized
    landing = ws.settings.landing_dir
    on_disk = {
        str(p.relative_to(landing))
        for p in landing.rglob("*")
        if p.is_file() and not any(part.startswith(("_", ".")) for part in p.relative_to(landing).parts)
    }
    with duckdb.connect(str(ws.settings.warehouse_path), read_only=True) as con:
        recorded = dict(con.execute("select path, published_at is not null from audit.landing_files").fetchall())
    assert recorded == dict.fromkeys(on_disk, True)  # every file read, stamped published by the run's retention step

    assert prune_landing(ws.settings.warehouse_path, landing, 30, datetime.now(UTC) + timedelta(days=29)) == []
    deleted = prune_landing(ws.settings.warehouse_path, landing, 30, datetime.now(UTC) + timedelta(days=31))
    newest = {max(p for p in on_disk if p.startswith(f"{folder}/{stem}")) for folder, stem in _patterns(on_disk)}
    assert set(deleted) == on_disk - newest and deleted  # the daily GA4 files but the last; one file per CRM table


def _patterns(paths: set[str]) -> set[tuple[str, str]]:
    """(folder, file-name stem before any day suffix) of each delivered table."""
    return {(p.split("/")[0], p.split("/")[1].split(".")[0].rstrip("0123456789")) for p in paths}


def test_readme_file_reference_is_the_one_generated_from_the_mappings() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme[readme.index(START) : readme.index(END) + len(END)] == reference_markdown()
