"""What `c360 run` prints: a clean run its summary and no warnings or dbt log lines; a failed run one short block
(what failed, the root error text, where the report and the full log are) and no traceback unless --verbose.

The same two runs use a password-bearing PostgreSQL serving DSN, a webhook URL with a token and a PII key:
afterwards no file under the data dir (logs, reports, alerts, dbt profile, the Dagster instance's event log and run
tags) nor under dbt's target dir holds any of them (the key neither as text nor as hex).
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.publish.pg_roles import provision_reader_role
from simulator.landing_writer import write_tables
from tests.conftest import XS
from tests.postgres_fixtures import PG_HOST, PG_PORT, PgTarget, _admin, reader_role_fixture, throwaway_database  # noqa: F401
from tests.reidentification import RECORD_IDS, known_identifiers, re_identified
from tests.secret_scan import dbt_target_of_runs, files_holding

pytestmark = pytest.mark.postgres

C360 = Path(sys.executable).parent / "c360"
DBT_LINE = re.compile(r"Running with dbt|Registered adapter|OK created|Concurrency:|START sql|PASS ")


PASSWORD = "Serve-Pw-" + secrets.token_hex(6)
TOKEN = "hook-" + secrets.token_hex(12)
PII_KEY = "pii-" + secrets.token_hex(16)


@pytest.fixture
def serving_dsn(reader_role: str) -> Iterator[str]:
    """A throwaway database and a throwaway LOGIN role WITH a password that publishes into it."""
    role = f"c360_publisher_{secrets.token_hex(4)}"
    admin = _admin()
    with admin.cursor() as cur:
        cur.execute(f'create role "{role}" login superuser password %s', [PASSWORD])
    try:
        with throwaway_database() as target:
            provision_reader_role(target.dsn, reader_role)
            yield f"host={PG_HOST} port={PG_PORT} user={role} password={PASSWORD} dbname={target.dbname}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop role if exists "{role}"')
        admin.close()


def assert_serving_copy_re_identifies_nobody(dsn: str, landing: Path) -> None:
    """The attack of tests/test_pseudonyms.py on every column of every table of the PostgreSQL serving schema."""
    delivered = ["crm_customers", "ga4_events", *(table for table, _ in RECORD_IDS.values())]
    known = known_identifiers({t: pq.read_table(landing / f"{t}.parquet") for t in delivered})
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("select table_name, column_name from information_schema.columns where table_schema = 'marts'")
        columns = cur.fetchall()
        published: set[str] = set()
        for table, column in columns:
            cur.execute(f'select distinct "{column}"::text from marts."{table}" where "{column}" is not null')
            published |= {r[0] for r in cur.fetchall()}
    assert {t for t, _ in columns} >= {"dim_customer", "fct_orders", "fct_web_sessions"}
    found = re_identified(known, published)
    assert found == dict.fromkeys(known, 0), found


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _c360(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("C360_")}
    env |= {"C360_DATA_DIR": str(data_dir), "C360_SOURCE": "synthetic", **extra}
    return subprocess.run([str(C360), *args], env=env, capture_output=True, text=True, timeout=1200, check=False)


@pytest.mark.slow
def test_clean_run_is_quiet_and_failed_run_ends_with_one_block_and_no_secret_is_written(
    tmp_path: Path, serving_dsn: str, reader_role: str, xs_tables: dict[str, pa.Table]
) -> None:
    data = tmp_path / "data"
    write_tables(
        xs_tables, data / "landing" / "synthetic", {"scale": XS.scale, "seed": XS.seed, "end_date": XS.end_date}
    )
    secret_env = {
        "C360_POSTGRES_DSN": serving_dsn,
        "C360_POSTGRES_READER_ROLE": reader_role,
        "C360_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{_closed_port()}/services/{TOKEN}",
        "C360_PII_KEY": PII_KEY,
    }

    clean = _c360(data, "run", **secret_env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    console = clean.stdout + clean.stderr
    assert "warning" not in console.lower(), console
    assert not DBT_LINE.search(console), console
    assert "published marts:" in clean.stdout and len(console.splitlines()) < 60
    assert "pseudonyms: HMAC-SHA256 under the secret key" in clean.stdout  # not the throwaway key
    assert_serving_copy_re_identifies_nobody(serving_dsn, data / "landing" / "synthetic")

    orders = data / "landing" / "synthetic" / "crm_orders.parquet"
    orders.write_bytes(b"this is not parquet")
    failed = _c360(data, "run", **secret_env)
    assert failed.returncode == 1
    console = failed.stdout + failed.stderr
    assert "Traceback" not in console and not DBT_LINE.search(console), console
    assert len(console.splitlines()) < 25, console
    assert "FAILED: nothing was published" in failed.stdout
    step_line = next(line for line in failed.stdout.splitlines() if line.startswith("  step extract_crm:"))
    assert "parquet" in step_line.lower() and "dagster" not in step_line.lower(), step_line
    report = Path(re.search(r"full report: (\S+)", failed.stdout).group(1))
    log = Path(re.search(r"full log: (\S+)", failed.stdout).group(1))
    assert report.is_file() and log.is_file()
    assert "step extract_crm failed" in log.read_text() and 'File "' in log.read_text()  # the stack: one path away

    assert "alert webhook http://127.0.0.1/*** failed" in log.read_text()
    secrets = (PASSWORD, TOKEN, PII_KEY, PII_KEY.encode().hex())
    for secret in secrets:
        for output in (clean, failed):
            assert secret not in output.stdout + output.stderr
    run_ids = [report.stem for report in (data / "reports").glob("*.txt")]
    assert len(run_ids) == 2, run_ids
    written = [data, *dbt_target_of_runs(run_ids)]
    assert files_holding(written, [secret.encode() for secret in secrets]) == []
