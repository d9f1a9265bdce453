"""Preflight: before anything is extracted, check what a run needs and fail in seconds with one line and the fix.

Run by the `c360` launcher before the heavy imports (so it answers in about a second; `c360 demo` after generating),
and once per run by the job's first step, `ops/preflight`, which every extract waits for (so scheduled runs get it
too). Settings are validated when read
(`Settings.from_env`); this checks what they point at: the landing folder (present, readable, not empty; the files
in it are checked by the extract step before anything loads), the PostgreSQL CRM source and serving target (each
must connect within `CONNECT_TIMEOUT_S`), and free disk under `$C360_DATA_DIR` (`C360_MIN_FREE_DISK_MB`).
Kept light: it imports no Dagster, dbt or dlt.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg2

from orchestration.config import Settings
from orchestration.redact import redact

CONNECT_TIMEOUT_S = 3


class PreflightError(RuntimeError):
    """What a run needs is missing. The message is one line: the problem, then the fix."""


def preflight_problem(settings: Settings, *, serving: bool = True) -> str | None:
    """The first problem that would stop a run, as one line with its fix; None when the run may start.

    `serving=False` leaves out the PostgreSQL serving target: the scheduled job checks it separately and only warns,
    because a serving outage must not stop the DuckDB file from being published (the targets fail independently).
    `c360 run`, with an operator at the terminal, keeps it blocking: a wrong DSN is fixed in seconds.
    """
    checks = (_disk, _landing, _crm_source, serving_target_problem) if serving else (_disk, _landing, _crm_source)
    for check in checks:
        problem = check(settings)
        if problem:
            return redact(problem)
    return None


def check_preflight(settings: Settings) -> None:
    problem = preflight_problem(settings)
    if problem:
        raise PreflightError(problem)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _disk(settings: Settings) -> str | None:
    free_mb = shutil.disk_usage(_nearest_existing(settings.data_dir)).free // 2**20
    if free_mb < settings.min_free_disk_mb:
        return (
            f"only {free_mb:,} MB free under {settings.data_dir} "
            f"(C360_MIN_FREE_DISK_MB={settings.min_free_disk_mb:,}): "
            "free space (old reports, published/versions, duckdb_tmp) or point C360_DATA_DIR at a larger disk"
        )
    return None


def _landing(settings: Settings) -> str | None:
    landing = settings.landing_dir
    fix = (
        f"run `c360 generate` (source {settings.source})"
        if settings.source == "synthetic"
        else f"deliver the exports there, or set C360_SOURCE / C360_DATA_DIR (source {settings.source})"
    )
    if not landing.is_dir():
        if settings.source == "postgres":  # the CRM comes from the database; web and ad files are optional
            return None
        return f"landing folder {landing} does not exist: {fix}"
    if not os.access(landing, os.R_OK | os.X_OK):
        return f"landing folder {landing} is not readable by this user: fix its permissions (chmod u+rx)"
    if settings.source != "postgres" and not any(p.is_file() for p in landing.rglob("*")):
        return f"landing folder {landing} is empty: {fix}"
    unreadable = next((p for p in landing.rglob("*") if p.is_file() and not os.access(p, os.R_OK)), None)
    if unreadable:
        return f"{unreadable} is not readable by this user: fix its permissions (chmod u+r)"
    return None


def _connects(dsn: str) -> str | None:
    try:
        psycopg2.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S).close()
    except psycopg2.Error as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        return " ".join(lines[:2]) or type(exc).__name__
    return None


def _crm_source(settings: Settings) -> str | None:
    if settings.source != "postgres":
        return None
    if not settings.crm_postgres_url:
        return "C360_SOURCE=postgres needs C360_CRM_POSTGRES_URL (postgresql://user:pass@host:port/db): set it"
    error = _connects(settings.crm_postgres_url)
    if error:
        return (
            f"the PostgreSQL CRM source (C360_CRM_POSTGRES_URL) does not connect within {CONNECT_TIMEOUT_S} s: "
            f"{error}; start the database or fix the URL"
        )
    return None


def serving_target_problem(settings: Settings) -> str | None:
    """The PostgreSQL serving target does not connect (None when unset or reachable)."""
    if not settings.postgres_dsn:
        return None
    error = _connects(settings.postgres_dsn)
    if error:
        return (
            f"the PostgreSQL serving target (C360_POSTGRES_DSN) does not connect within {CONNECT_TIMEOUT_S} s: "
            f"{error}; start the database, fix the DSN, or unset C360_POSTGRES_DSN to publish the DuckDB file only"
        )
    return None
