"""Transient failures are retried, data failures never.

Every step of the daily job carries one `RetryPolicy` (exponential backoff with +/- jitter; `C360_RETRY_MAX`
attempts after the first, first delay `C360_RETRY_DELAY_S`), set on the job in `schedules.py`. A Dagster retry
policy retries any exception, so the steps whose errors can be either kind run their body inside
`retry_only_transient()`: a DuckDB lock conflict or I/O error, a PostgreSQL connection error or a network error
propagates (and is retried); anything else becomes a `dg.Failure(allow_retries=False)` that keeps the original error
as its cause. Failed checks are not exceptions and are never retried.

DuckDB running out of its memory limit is retried once: under `C360_DUCKDB_MEMORY_LIMIT` it depends on which of
dbt's models overlap when (at L, 5 GB, the one-day increment failed in two large models side by side, and the same
build run again on the same warehouse passed); a second one is final, with the settings that give it more room.

An interrupt (Ctrl-C, or `kill`: SIGTERM, what a service manager sends to stop a run) stops the run. Dagster's
retry policy retries a step on an interrupt too (meant for preempted step workers), which made `c360 run` go on
after a SIGTERM during dbt and publish. So an interrupt seen by `retry_only_transient` marks its run interrupted,
and every later attempt of a step of that run fails at once, final (`INTERRUPTED`): the run fails, publishes
nothing, and alerts like any failed run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import dagster as dg
import psycopg2
from dlt.common.exceptions import SignalReceivedException

from orchestration.config import Settings
from orchestration.redact import redact

P = ParamSpec("P")
T = TypeVar("T")

#: Error texts that mean "try again later", wherever they come from (DuckDB via dlt, dbt or our own connections).
TRANSIENT_TEXT = ("Could not set lock on file", "could not connect to server", "Connection refused", "timeout expired")
#: DuckDB's error when a query cannot get memory under the limit (duckdb.OutOfMemoryException).
OUT_OF_MEMORY_TEXT = "Out of Memory Error"
OUT_OF_MEMORY_HINT = (
    "DuckDB ran out of memory twice (C360_DUCKDB_MEMORY_LIMIT); raise the limit, or set C360_DBT_THREADS=1 so that "
    "one dbt model at a time has all of it"
)
INTERRUPTED = "interrupted (Ctrl-C or SIGTERM): the run stops here and publishes nothing; run it again to refresh"

#: Runs of this process an interrupt stopped (steps run in the run's main thread: the in-process executor).
_interrupted_runs: set[str] = set()


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception and its causes / contexts, each once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_transient(exc: BaseException) -> bool:
    """A lock conflict, an I/O or connection error anywhere in the exception's chain."""
    return any(
        isinstance(e, psycopg2.OperationalError | ConnectionError | TimeoutError)
        or any(text in str(e) for text in TRANSIENT_TEXT)
        for e in _chain(exc)
    )


def is_out_of_memory(exc: BaseException) -> bool:
    """DuckDB's out-of-memory error anywhere in the exception's chain (dbt's error carries it as text)."""
    return any(OUT_OF_MEMORY_TEXT in str(e) for e in _chain(exc))


def retry_policy(settings: Settings) -> dg.RetryPolicy:
    return dg.RetryPolicy(
        max_retries=settings.retry_max,
        delay=settings.retry_delay_s,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


@contextmanager
def retry_only_transient(run_id: str, retry_number: int) -> Iterator[None]:
    """Let transient errors through to the step's retry policy; make every other error final; an interrupt stops the
    run (see the module docstring). `retry_number`: the step's attempt (0 first), for the one retry of an
    out-of-memory error."""
    if run_id in _interrupted_runs:
        raise dg.Failure(description=INTERRUPTED, allow_retries=False)
    try:
        yield
    except (dg.DagsterExecutionInterruptedError, KeyboardInterrupt):
        _interrupted_runs.add(run_id)
        raise  # Dagster fails the step as interrupted, or asks for a retry, which ends at the check above
    except SignalReceivedException as exc:  # dlt holds the signal until a checkpoint of its own, then raises this
        _interrupted_runs.add(run_id)
        raise dg.Failure(description=INTERRUPTED, allow_retries=False) from exc
    except Exception as exc:
        # A Failure already marked final stays final; any other error (dagster-dbt's errors are Failures that allow
        # retries: a failed dbt test must not be retried) is retried only when it is transient.
        if (isinstance(exc, dg.Failure) and not exc.allow_retries) or is_transient(exc):
            raise
        if is_out_of_memory(exc):
            if retry_number == 0:
                raise
            raise dg.Failure(
                description=redact(f"{OUT_OF_MEMORY_HINT}: {type(exc).__name__}: {exc}"), allow_retries=False
            ) from exc
        raise dg.Failure(description=redact(f"{type(exc).__name__}: {exc}"), allow_retries=False) from exc


def transient_only(step: Callable[P, Iterator[T]]) -> Callable[P, Iterator[T]]:
    """`retry_only_transient` for a whole generator step body whose first argument is its Dagster context (a
    decorator keeps the step's signature for Dagster)."""

    @functools.wraps(step)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        context: Any = args[0]
        with retry_only_transient(context.run.run_id, context.retry_number):
            yield from step(*args, **kwargs)

    return wrapped
