"""dlt's usage telemetry, off: a retailer's warehouse does not phone home.

By default dlt reports every pipeline run to dlthub (hashes of the pipeline and dataset names, the destination, each
step's outcome), unless a `.dlt/config.toml` in the working directory or in ~/.dlt, or RUNTIME__DLTHUB_TELEMETRY,
says otherwise; none of those goes with a `c360` run started from cron, a Dagster daemon or another directory. dlt
starts its tracker when it is imported, so the option alone comes too late: the running tracker is stopped as well
(dlt's own stop, the one its exit hook calls). Dagster's telemetry is off in instance_config.py, dbt's by
`--no-send-anonymous-usage-stats` on every dbt call.
"""

from __future__ import annotations

from dlt import config as dlt_config
from dlt.common.runtime.telemetry import stop_telemetry


def turn_off_dlt_telemetry() -> None:
    """Idempotent; called before any dlt pipeline of the project is created."""
    dlt_config["runtime.dlthub_telemetry"] = False
    stop_telemetry()
