"""The one typed place for runtime configuration. Read from environment variables at run time, never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration.extract.raw_contract import raw_table

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"

#: Environment variables and their defaults; the README documents the same table.
ENV_DEFAULTS: dict[str, str] = {
    "C360_DATA_DIR": str(REPO_ROOT / "data"),  # runtime state: landing/, warehouse.duckdb, published/, dagster_home/
    "C360_SOURCE": "synthetic",  # which source the extract assets read: synthetic, files, postgres
    "C360_CRM_POSTGRES_URL": "",  # C360_SOURCE=postgres: the operational CRM (postgresql:// URL), read incrementally
    "C360_SCALE": "S",  # synthetic preset: XS, S, M, L
    "C360_SEED": "7",  # synthetic seed
    "C360_REPORTING_CURRENCY": "USD",
    "C360_FX_MAX_RATE_AGE_DAYS": "45",  # a day's FX rate is the latest published on or before it, at most this old
    "C360_SCHEDULE_CRON": "0 6 * * *",  # daily refresh
    "C360_SCHEDULE_TIMEZONE": "UTC",
    "C360_PARTITION_START": "2015-01-01",  # the daily job's first as-of date (partition): earliest day a backfill runs
    "C360_PUBLISH_KEEP": "3",  # previous published versions kept beside the live file
    "C360_PUBLISH_MAX_AGE_DAYS": "30",  # kept/rolled-back published files older than this are deleted (none: keep)
    "C360_LANDING_RETENTION_DAYS": "30",  # files source: delivered files this long after publish are deleted
    "C360_QUARANTINE_RETENTION_DAYS": "90",  # audit.quarantine rows loaded longer ago than this are deleted
    "C360_DBT_RUN_DIR_RETENTION_DAYS": "14",  # dbt's per-run target dirs (compiled SQL, logs) older than this go
    "C360_PUBLISH_STORAGE_VERSION": "v1.0.0",  # DuckDB on-disk format of the published file (readable by DuckDB >= 1.0)
    # keys of the published DuckDB file: checked (primary and unique keys checked at publish, not declared), primary
    # (declared: ~10 s more at M), enforced (foreign keys too: ~40 s more at M), or none (comments only)
    "C360_PUBLISH_FILE_KEYS": "checked",
    "C360_POSTGRES_DSN": "",  # optional PostgreSQL serving target (libpq DSN or URL); empty = DuckDB file only
    "C360_POSTGRES_READER_ROLE": "bi_reader",  # role that may SELECT the published marts schema and nothing else
    "C360_POSTGRES_ACTIVATION_ROLE": "",  # optional role of marketing tools: may SELECT the consented audiences only
    # dbt's reconciliation tests over incremental models: window (the rows of unpublished loads, reprocessed by this
    # run; the first run's window is everything) or full (all history, as a full refresh checks)
    "C360_DBT_TEST_SCOPE": "window",
    "C360_DBT_FULL_TEST_WEEKDAY": "sunday",  # window scope: runs as of this weekday check all history (none: never)
    "C360_CLV_MARGIN": "0.35",  # gross margin rate applied to predicted spend in the 12-month CLV
    "C360_CLV_MONTHLY_DISCOUNT_RATE": "0.01",  # monthly discount rate of the CLV (about 12.7% a year)
    "C360_ALERT_WEBHOOK_URL": "",  # optional: failed runs POST a JSON alert here (always logged + written to a file)
    "C360_EXTRACT_BATCH_ROWS": "500000",  # rows per batch of a Parquet delivery: the extract's memory grows with it
    "C360_DUCKDB_MEMORY_LIMIT": "",  # memory_limit of warehouse connections (e.g. 4GB); empty = DuckDB default
    "C360_DUCKDB_THREADS": "",  # warehouse connections' threads; empty = DuckDB's default (all cores)
    "C360_DBT_THREADS": "2",  # models dbt builds at once; 1 gives each model the whole DuckDB memory limit
    "C360_REQUIRED_TABLES": "crm_customers,crm_orders",  # raw tables a delivery must hold; every other is optional
    "C360_PUBLISH_SLA_HOURS": "26",  # published marts older than this are stale: publish status fails, sensor alerts
    "C360_DELIVERY_INCOMPLETE_MINUTES": "60",  # files source: a delivery without its _SUCCESS marker this long alerts
    "C360_RETRY_MAX": "4",  # transient failures (lock, I/O, connection): retries per step, exponential backoff + jitter
    "C360_RETRY_DELAY_S": "2",  # first retry delay; doubles each retry (2+4+8+16 = 30 s budget by default)
    "C360_MIN_FREE_DISK_MB": "500",  # preflight: a run refuses to start with less free disk under C360_DATA_DIR
    "C360_FRESHNESS_DAYS": "",  # per-table freshness, `table=days` pairs (`none` = no rule), e.g. ga4_events=5
    "C360_ENV": "dev",  # dev, test or prod; prod refuses to start without a PII key
    "C360_PII_KEY": "",  # secret key of the identifiers' HMAC-SHA256 pseudonyms (>= PII_KEY_MIN_LENGTH characters)
    "C360_PII_KEY_FILE": "",  # or: absolute path of a file holding that key (first line)
    "C360_PII_KEY_RETIRED": "",  # keys rotated out (space-separated): only to recognise people erased under them
}

#: Settings that take one of a fixed set of values, checked by Settings.from_env.
SOURCES = ("files", "postgres", "synthetic")
SCALES = ("XS", "S", "M", "L")
ENVIRONMENTS = ("dev", "test", "prod")

#: Shortest accepted PII key: 32 characters, e.g. `openssl rand -hex 32` gives 64.
PII_KEY_MIN_LENGTH = 32
#: The key of demo and test runs when none is set (never in prod): public, so its pseudonyms protect nothing.
THROWAWAY_PII_KEY = "c360-THROWAWAY-demo-key-public-not-secret-never-use-on-real-data"


#: Keys of the published DuckDB file: `checked` fails a publish that breaks a primary or unique key the dbt tests
#: name, by one query per key, and declares none; `primary` declares them (DuckDB builds an index per key: M's
#: publish 6 s -> 16 s, its file 292 -> 660 MB), `enforced` the foreign keys too (48 s), `none` publishes comments
#: only. No DuckDB BI driver reads declared keys today, and PostgreSQL serving keeps every key either way (see
#: README, "Self-describing").
PUBLISH_FILE_KEYS = ("checked", "primary", "enforced", "none")
DBT_TEST_SCOPES = ("window", "full")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SettingsError(ValueError):
    """A setting has a value the warehouse cannot use. The message is one line: variable, bad value, what is valid."""


def _choice(env: Mapping[str, str], name: str, valid: tuple[str, ...]) -> str:
    value = env[name]
    if value not in valid:
        raise SettingsError(f"{name}={value!r} is not one of: {', '.join(valid)}")
    return value


def _days(env: Mapping[str, str], name: str) -> int | None:
    """A retention period in days: an integer >= 0, or `none` (keep forever)."""
    if env[name].strip().lower() == "none":
        return None
    try:
        return int(_number(env, name, int))
    except SettingsError:
        raise SettingsError(f"{name}={env[name]!r} is not an integer >= 0 or none") from None


def _number(env: Mapping[str, str], name: str, kind: type[int] | type[float], minimum: float = 0) -> int | float:
    value = env[name]
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        what = "an integer" if kind is int else "a number"
        raise SettingsError(f"{name}={value!r} is not {what} >= {minimum:g}")
    return number


def _weekday(env: Mapping[str, str], name: str) -> int | None:
    """A day of the week as date.weekday() (monday = 0), or None for `none`."""
    day = _choice({name: env[name].strip().lower()}, name, (*WEEKDAYS, "none"))
    return None if day == "none" else WEEKDAYS.index(day)


def _iso_date(env: Mapping[str, str], name: str) -> date:
    try:
        return date.fromisoformat(env[name])
    except ValueError:
        raise SettingsError(f"{name}={env[name]!r} is not a date YYYY-MM-DD") from None


def pii_key(env: Mapping[str, str]) -> tuple[bytes, bool]:
    """The HMAC key of the published pseudonyms and whether it is the public throwaway key: `C360_PII_KEY`, else the
    first line of the file `C360_PII_KEY_FILE` names, else (not in prod) THROWAWAY_PII_KEY. Errors never quote the
    key. Read by Settings and, where dbt runs, by the pseudonym plugin: one rule for both."""
    key, path = env.get("C360_PII_KEY") or "", env.get("C360_PII_KEY_FILE") or ""
    if path and not key:
        if not Path(path).is_absolute():
            raise SettingsError(f"C360_PII_KEY_FILE={path!r} is not an absolute path: give the full path")
        try:
            key = next(iter(Path(path).read_text().splitlines()), "").strip()
        except OSError as exc:
            raise SettingsError(f"C360_PII_KEY_FILE={path!r} cannot be read ({exc.strerror}): fix the path") from None
    if key:
        if len(key) < PII_KEY_MIN_LENGTH:
            source = "C360_PII_KEY" if env.get("C360_PII_KEY") else f"the file C360_PII_KEY_FILE={path!r}"
            raise SettingsError(
                f"{source} holds a key of {len(key)} characters; at least {PII_KEY_MIN_LENGTH} are needed: "
                "generate one with `openssl rand -hex 32`"
            )
        return key.encode(), False
    if (env.get("C360_ENV") or ENV_DEFAULTS["C360_ENV"]) == "prod":
        raise SettingsError(
            "C360_ENV=prod needs a PII key: set C360_PII_KEY (or C360_PII_KEY_FILE, an absolute path) to a secret of "
            f"at least {PII_KEY_MIN_LENGTH} characters, e.g. `openssl rand -hex 32`"
        )
    return THROWAWAY_PII_KEY.encode(), True


def retired_pii_keys(env: Mapping[str, str]) -> tuple[bytes, ...]:
    """`C360_PII_KEY_RETIRED`: the keys a rotation replaced, kept only while the erasure ledger holds rows written
    under them (orchestration/privacy/erasure_ledger.py). Errors never quote a key."""
    keys = (env.get("C360_PII_KEY_RETIRED") or "").split()
    for n, key in enumerate(keys, start=1):
        if len(key) < PII_KEY_MIN_LENGTH:
            raise SettingsError(
                f"C360_PII_KEY_RETIRED: key {n} has {len(key)} characters, fewer than any PII key "
                f"({PII_KEY_MIN_LENGTH}): give the retired keys whole, separated by spaces"
            )
    return tuple(k.encode() for k in keys)


#: Where a data dir's published file lies in it; dbt-duckdb names the database after the file (`marts`), so the
#: semantic layer's table names are the same for every data dir (orchestration/semantic/manifest.py).
PUBLISHED_PATH_IN_DATA_DIR = "published/marts.duckdb"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    source: str
    scale: str
    seed: int
    reporting_currency: str
    fx_max_rate_age_days: int
    schedule_cron: str
    schedule_timezone: str
    publish_keep: int
    publish_storage_version: str
    publish_file_keys: str
    postgres_dsn: str
    crm_postgres_url: str
    postgres_reader_role: str
    postgres_activation_role: str
    alert_webhook_url: str
    clv_margin: float
    clv_monthly_discount_rate: float
    duckdb_memory_limit: str = ""
    extract_batch_rows: int = 500_000
    duckdb_threads: int | None = None
    dbt_threads: int = 2
    required_tables: tuple[str, ...] = ("crm_customers", "crm_orders")
    freshness_days: Mapping[str, int | None] = field(default_factory=dict)
    min_free_disk_mb: int = 500
    publish_sla_hours: float = 26.0
    delivery_incomplete_minutes: float = 60.0
    retry_max: int = 4
    retry_delay_s: float = 2.0
    publish_max_age_days: int | None = 30
    landing_retention_days: int | None = 30
    quarantine_retention_days: int | None = 90
    dbt_run_dir_retention_days: int | None = 14
    environment: str = "dev"
    pii_key: bytes = field(default=THROWAWAY_PII_KEY.encode(), repr=False)  # never printed: repr=False
    pii_key_is_throwaway: bool = True
    pii_keys_retired: tuple[bytes, ...] = field(default=(), repr=False)
    partition_start: date = date(2015, 1, 1)
    dbt_test_scope: str = "window"
    dbt_full_test_weekday: int | None = 6  # date.weekday() of the as-of dates whose runs check all history

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        value = {name: env.get(name) or default for name, default in ENV_DEFAULTS.items()}
        environment = _choice(value, "C360_ENV", ENVIRONMENTS)
        key, throwaway = pii_key(value)
        return cls(
            data_dir=Path(value["C360_DATA_DIR"]).expanduser().resolve(),
            source=_choice(value, "C360_SOURCE", SOURCES),
            scale=_choice(value, "C360_SCALE", SCALES),
            seed=int(_number(value, "C360_SEED", int)),
            reporting_currency=value["C360_REPORTING_CURRENCY"].upper(),
            fx_max_rate_age_days=int(value["C360_FX_MAX_RATE_AGE_DAYS"]),
            schedule_cron=value["C360_SCHEDULE_CRON"],
            schedule_timezone=value["C360_SCHEDULE_TIMEZONE"],
            publish_keep=int(_number(value, "C360_PUBLISH_KEEP", int)),
            publish_storage_version=value["C360_PUBLISH_STORAGE_VERSION"],
            publish_file_keys=_choice(value, "C360_PUBLISH_FILE_KEYS", PUBLISH_FILE_KEYS),
            dbt_test_scope=_choice(value, "C360_DBT_TEST_SCOPE", DBT_TEST_SCOPES),
            dbt_full_test_weekday=_weekday(value, "C360_DBT_FULL_TEST_WEEKDAY"),
            postgres_dsn=env.get("C360_POSTGRES_DSN", ""),
            crm_postgres_url=env.get("C360_CRM_POSTGRES_URL", ""),
            postgres_reader_role=value["C360_POSTGRES_READER_ROLE"],
            postgres_activation_role=value["C360_POSTGRES_ACTIVATION_ROLE"],
            alert_webhook_url=env.get("C360_ALERT_WEBHOOK_URL", ""),
            clv_margin=float(_number(value, "C360_CLV_MARGIN", float)),
            clv_monthly_discount_rate=float(_number(value, "C360_CLV_MONTHLY_DISCOUNT_RATE", float)),
            duckdb_memory_limit=value["C360_DUCKDB_MEMORY_LIMIT"],
            extract_batch_rows=int(_number(value, "C360_EXTRACT_BATCH_ROWS", int, 1)),
            duckdb_threads=int(_number(value, "C360_DUCKDB_THREADS", int, 1)) if value["C360_DUCKDB_THREADS"] else None,
            dbt_threads=int(_number(value, "C360_DBT_THREADS", int, 1)),
            required_tables=_table_list(value["C360_REQUIRED_TABLES"]),
            freshness_days=_table_days(env.get("C360_FRESHNESS_DAYS", "")),
            min_free_disk_mb=int(_number(value, "C360_MIN_FREE_DISK_MB", int)),
            publish_sla_hours=float(_number(value, "C360_PUBLISH_SLA_HOURS", float)),
            delivery_incomplete_minutes=float(_number(value, "C360_DELIVERY_INCOMPLETE_MINUTES", float)),
            retry_max=int(_number(value, "C360_RETRY_MAX", int)),
            retry_delay_s=float(_number(value, "C360_RETRY_DELAY_S", float)),
            publish_max_age_days=_days(value, "C360_PUBLISH_MAX_AGE_DAYS"),
            landing_retention_days=_days(value, "C360_LANDING_RETENTION_DAYS"),
            quarantine_retention_days=_days(value, "C360_QUARANTINE_RETENTION_DAYS"),
            dbt_run_dir_retention_days=_days(value, "C360_DBT_RUN_DIR_RETENTION_DAYS"),
            environment=environment,
            pii_key=key,
            pii_key_is_throwaway=throwaway,
            pii_keys_retired=retired_pii_keys(value),
            partition_start=_iso_date(value, "C360_PARTITION_START"),
        )

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing" / self.source

    @property
    def warehouse_path(self) -> Path:
        """The build database dbt writes and checks read; BI never opens it."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        """The file BI tools open read-only; only the publish asset replaces it."""
        return self.data_dir / PUBLISHED_PATH_IN_DATA_DIR

    @property
    def activation_dir(self) -> Path:
        """Consented audiences in the ad platforms' and the e-mail tool's upload shapes, one folder per run; the
        owner's only (0700/0600), unlike the live marts file beside it."""
        return self.data_dir / "published" / "activation"

    @property
    def dlt_dir(self) -> Path:
        return self.data_dir / "dlt"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster_home"

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where warehouse connections spill when a query outgrows memory_limit."""
        return self.data_dir / "duckdb_tmp"

    @property
    def alerts_dir(self) -> Path:
        return self.data_dir / "alerts"


def _table_list(text: str) -> tuple[str, ...]:
    """`C360_REQUIRED_TABLES`: raw table names, comma- or space-separated; unknown names are an error."""
    names = tuple(dict.fromkeys(n for n in text.replace(",", " ").split() if n))
    for name in names:
        raw_table(name)  # KeyError naming the contract's tables
    return names


def _table_days(text: str) -> dict[str, int | None]:
    """`C360_FRESHNESS_DAYS`: `table=days` pairs (comma- or space-separated); `none` switches the rule off."""
    days: dict[str, int | None] = {}
    for pair in text.replace(",", " ").split():
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"C360_FRESHNESS_DAYS: {pair!r} is not table=days (e.g. crm_orders=30)")
        raw_table(name.strip())
        value = value.strip().lower()
        days[name.strip()] = None if value in ("none", "off", "") else int(value)
    return days
