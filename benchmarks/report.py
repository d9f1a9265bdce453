"""Pure pieces of `make bench`: pipeline steps grouped by stage, ratios, and the markdown table of a result.

`python -m benchmarks.report benchmarks/results/<date>-<scale>.json ...` rewrites the `.md` beside each JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

STAGES = ("extract", "gates", "dbt", "clv", "publish", "other")
#: The pipeline runs of a result (key in its "runs") and their names: the stage table's columns and, as
#: `process_name`, their rows in the processes table. The rerun (nothing new delivered) shows what a run costs
#: whatever the day brought; results recorded before it was measured have only the first two.
RUNS = {"full": "full run", "increment": "increment run", "rerun": "rerun with nothing new"}


def process_name(run: str) -> str:
    """The processes-table row of pipeline run `run` (a key of RUNS)."""
    return f"{RUNS[run]} (c360 run)"


def stage_of(step_key: str) -> str:
    """The pipeline stage a Dagster step key belongs to (asset-check steps carry `_gx_` in their key)."""
    if "_gx_" in step_key or step_key.startswith(("gx_", "gate")):
        return "gates"
    if step_key.startswith("dbt"):
        return "dbt"
    if step_key.startswith(("customer_models", "clv")):
        return "clv"
    if step_key.startswith("publish"):
        return "publish"
    if step_key.startswith(("raw", "extract", "ops__preflight")):  # preflight was part of each extract step
        return "extract"
    return "other"


#: The dbt Python models that fit the customer models (dbt_project/models/customer_models/): their time is the
#: CLV stage, carved out of the dbt step that runs them.
CLV_NODES = ("model.c360.clv_predictions", "model.c360.clv_backtest")


def stage_seconds(steps: Iterable[dict], clv_s: float | None = None) -> dict[str, float]:
    """Sum of step wall times per stage (steps as {"step": key, "seconds": s}); stages without steps are left out.
    `clv_s`: the CLV models' time inside the dbt step (`clv_node_seconds`), moved from dbt to clv."""
    totals: dict[str, float] = {}
    for step in steps:
        stage = stage_of(step["step"])
        totals[stage] = totals.get(stage, 0.0) + step["seconds"]
    if clv_s is not None and "dbt" in totals:
        totals["dbt"] -= clv_s
        totals["clv"] = totals.get("clv", 0.0) + clv_s
    return {stage: totals[stage] for stage in STAGES if stage in totals}


def clv_node_seconds(run_results: dict) -> float | None:
    """Execution time of the CLV models in a dbt `run_results.json`, or None if they did not run there."""
    times = [r["execution_time"] for r in run_results.get("results", []) if r["unique_id"] in CLV_NODES]
    return sum(times) if times else None


def step_durations(events: Iterable[tuple[str, str, float]]) -> list[dict]:
    """(event type, step key, timestamp) of STEP_START / STEP_SUCCESS / STEP_FAILURE -> one dict per finished step,
    in start order. A step that started but never finished is left out."""
    started: dict[str, float] = {}
    steps = []
    for kind, step, timestamp in events:
        if kind == "STEP_START":
            started[step] = timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and step in started:
            steps.append({"step": step, "seconds": timestamp - started[step], "ok": kind == "STEP_SUCCESS"})
    return sorted(steps, key=lambda step: started[step["step"]])


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s" if value >= 10 else f"{value:,.2f} s"


def _gigabytes(value: int | None) -> str:
    return "-" if not value else f"{value / 1e9:,.2f} GB"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}x" if value < 10 else f"{value:,.1f}x"


def markdown(result: dict) -> str:
    """The result of one scale as a markdown section: processes, pipeline stages, ratios, machine."""
    scale, machine = result["scale"], result["machine"]
    lines = [
        f"### Scale {scale} (seed {result['seed']}, as of {result['as_of']}), {result['started_at']}",
        "",
        "| step | wall | CPU | peak memory (process tree) | largest process | notes |",
        "|---|---|---|---|---|---|",
    ]
    for name, step in result["processes"].items():
        lines.append(
            f"| {name} | {_seconds(step['wall_s'])} | {_seconds(step['cpu_s'])} | "
            f"{_gigabytes(step['peak_tree_rss_bytes'])} | {_gigabytes(step['peak_process_rss_bytes'])} | "
            f"{step.get('note', '')} |"
        )
    runs = [run for run in RUNS if run in result["runs"]]  # results before the rerun have two runs
    stages = {run: result["runs"][run].get("stages") or {} for run in runs}
    if any(stages.values()):
        header = " | ".join(RUNS[run] for run in runs)
        lines += ["", f"| pipeline stage (sum of Dagster step wall times) | {header} |", "|---" * (len(runs) + 1) + "|"]
        for stage in STAGES:
            if any(stage in stages[run] for run in runs):
                lines.append(f"| {stage} | " + " | ".join(_seconds(stages[run].get(stage)) for run in runs) + " |")
        outside = [result["runs"][run].get("outside_steps_s") for run in runs]
        lines.append(
            "| outside steps (imports, parse, planning, report) | "
            + " | ".join(_seconds(seconds) for seconds in outside)
            + " |"
        )
    ratios = {**result["ratios"], **cpu_ratios(result)}
    bound, clv = result["sql_bound"], result["clv"]
    lines += [
        "",
        "| ratio (same `make bench` run) | value |",
        "|---|---|",
        f"| full run / single-pass DuckDB SQL bound ({_seconds(bound['median_s'])}, median of {bound['repeats']}) | "
        f"{_times(ratios['full_over_sql_bound'])} |",
        f"| full run / SQL bound, CPU time (all threads and processes; bound {_seconds(ratios['sql_bound_cpu_s'])}) | "
        f"{_times(ratios['full_over_sql_bound_cpu'])} |",
        f"| increment run / full run | {_times(ratios['increment_over_full'])} |",
        f"| increment run / full run, CPU time | {_times(ratios['increment_over_full_cpu'])} |",
        *(
            [
                f"| rerun with nothing new / full run | {_times(ratios['rerun_over_full'])} |",
                f"| rerun with nothing new / full run, CPU time | {_times(ratios['rerun_over_full_cpu'])} |",
            ]
            if "rerun_over_full" in ratios
            else []
        ),
        f"| pipeline CLV step / our fit alone (summary + fits, median of {clv['repeats']}) | "
        f"{_times(ratios['clv_step_over_our_fit'])} |",
        f"| lifetimes fit / our fit (BG/NBD + Gamma-Gamma on the same summary) | "
        f"{_times(ratios['lifetimes_fit_over_our_fit'])} |",
        f"| lifetimes summary + fit / ours | {_times(ratios['lifetimes_total_over_our_total'])} |",
        "",
        f"CLV fits on {clv['ours']['customers']:,} customers ({clv['ours']['orders']:,} completed orders): ours "
        f"{_seconds(clv['ours']['fit_s'])} fit + {_seconds(clv['ours']['summary_s'])} summary; lifetimes "
        f"{_seconds(clv['lifetimes']['fit_s'])} fit + {_seconds(clv['lifetimes']['summary_s'])} summary.",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']:.0f} GB RAM, {machine['os']}, "
        f"Python {machine['python']}, duckdb {machine['duckdb']}, commit {machine['git_commit']}"
        f"{' (uncommitted changes)' if machine.get('git_dirty') else ''}. Load average (1/5/15 min) at start "
        f"{_load(result['load_average']['start'])}, at end {_load(result['load_average']['end'])}: "
        f"{result['note']}",
        *_settings_line(result),
    ]
    return "\n".join(lines) + "\n"


def _settings_line(result: dict) -> list[str]:
    """The run's performance settings (run.PERFORMANCE_SETTINGS); nothing for a result recorded before they were."""
    if "settings" not in result:
        return []
    chosen = ", ".join(f"`{name}={value}`" for name, value in sorted(result["settings"].items()))
    return ["", f"Settings: {chosen or 'the defaults (no C360_DUCKDB_MEMORY_LIMIT: DuckDB takes up to 80% of RAM)'}."]


def cpu_ratios(result: dict) -> dict[str, float | None]:
    """Ratios of CPU times, steadier than wall times on a shared machine. The bound's CPU is the script's own
    (median) when recorded, else its whole process's (interpreter start and `import duckdb` included)."""
    processes = result["processes"]
    full, increment, rerun = (processes.get(process_name(run), {}).get("cpu_s") for run in RUNS)
    bound = result["sql_bound"].get("median_cpu_s") or next(
        (step["cpu_s"] for name, step in processes.items() if name.startswith("SQL bound")), None
    )
    return {
        "sql_bound_cpu_s": bound,
        "full_over_sql_bound_cpu": ratio(full, bound),
        "increment_over_full_cpu": ratio(increment, full),
        "rerun_over_full_cpu": ratio(rerun, full),
    }


def rerender(json_path: Path) -> Path:
    """Write `<name>.md` beside a result JSON again (after a formatting change); returns its path."""
    result = json.loads(json_path.read_text())
    markdown_path = json_path.with_suffix(".md")
    markdown_path.write_text(markdown(result))
    return markdown_path


def _load(values: list[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in values)


def result_stem(result: dict) -> str:
    """`<date>-<scale>-<HHMM>-<commit>` (UTC start; `-dirty` with uncommitted changes): every run keeps its own files
    (two runs of a scale on one day no longer overwrite each other) and names the code it measured."""
    started = datetime.strptime(result["started_at"], "%Y-%m-%d %H:%M UTC")
    machine = result["machine"]
    dirty = "-dirty" if machine.get("git_dirty") else ""
    return f"{started:%Y-%m-%d}-{result['scale']}-{started:%H%M}-{machine['git_commit']}{dirty}"


def _newest_first_key(path: Path) -> tuple[str, str]:
    """A results file's date and start time from its name; files named before the start time was (`<date>-<scale>`)
    count as the day's earliest."""
    date, rest = path.stem[:10], path.stem[11:]
    return date, rest.split("-")[1] if rest.count("-") >= 2 else ""


def write_latest(results: Path) -> None:
    """`latest.md`: the newest result of each scale, smallest scale first."""
    newest = [
        max(
            [*results.glob(f"????-??-??-{scale}.md"), *results.glob(f"????-??-??-{scale}-????-*.md")],
            key=_newest_first_key,
            default=None,
        )
        for scale in ("XS", "S", "M", "L")
    ]
    body = "\n".join(path.read_text() for path in newest if path)
    (results / "latest.md").write_text("# Latest `make bench` results\n\n" + body)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(rerender(Path(argument)))
    if sys.argv[1:]:
        write_latest(Path(sys.argv[1]).parent)
