"""How a run's settings (as_of_date, reporting_currency, the CLV's margin, ...) reach dbt while it executes: as
`--vars` of the run's in-process build, read by the `run_setting` macro (dbt_project/macros/run_settings.sql), and
for the Python models (orchestration/customer_models/in_dbt.py), whose config dbt fixes at parse time, through
`settings_of_this_dbt_call`, the settings of the dbt call running in this process (dbt by hand renders them into
the models' `meta.run_settings` from its own `--vars` when it parses). Imports nothing heavy: the Python models
import it inside dbt."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

_current: dict[str, str] = {}
_one_call = threading.Lock()


@contextmanager
def settings_of_this_dbt_call(run_settings: Mapping[str, str]) -> Iterator[None]:
    """While the block runs dbt in this process, `current_run_setting` answers with these settings. dbt runs one
    call at a time in a process (its runner keeps global state), so a second concurrent call fails here at once."""
    if not _one_call.acquire(blocking=False):
        raise RuntimeError("another dbt call is running in this process")
    try:
        _current.clear()
        _current.update(run_settings)
        yield
    finally:
        _current.clear()
        _one_call.release()


def current_run_setting(name: str) -> str | None:
    """The setting `name` of the dbt call running in this process, if one runs with it."""
    return _current.get(name)
