"""How a run's settings (as_of_date, reporting_currency, the CLV's margin, ...) reach dbt: as the environment
variables `C360_RUN_<NAME>` of the dbt process, read while executing by the `run_setting` macro
(dbt_project/macros/run_settings.sql) and by the Python models (orchestration/customer_models/in_dbt.py). Not
`--vars`: dbt re-parses the whole project whenever `--vars` change. Imports nothing heavy: the dbt process reads it."""

from __future__ import annotations

from collections.abc import Mapping

#: Prefix of the environment variables a run's settings travel in.
RUN_SETTING_PREFIX = "C360_RUN_"


def run_setting_environment(run_settings: Mapping[str, str]) -> dict[str, str]:
    """A run's settings (as_of_date, ...) as the environment variables dbt's `run_setting` macro reads."""
    return {f"{RUN_SETTING_PREFIX}{name.upper()}": value for name, value in run_settings.items()}
