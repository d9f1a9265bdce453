"""`make bench`: time the pipeline end to end at one or more scales, from cached generated data; not a test.

Per scale (default seed 7):

1. generate, once: `c360 generate` (the landing Parquet) and `c360 generate --increment 1` (the next day's
   delivery) into `$C360_BENCH_DIR/<scale>-seed<seed>/` (default `./data/bench`), reused when present (the
   generate timings of the run that made them are reported, marked cached);
2. full refresh: a fresh data dir, the cached landing copied in, `c360 run`, after `make manifest`'s parse (once per
   code change in a deployment; timed on its own row);
3. one-day increment: the increment's files copied over the landing (as `generate --increment` does), `c360 run`
   again on the same data dir;
4. a rerun with nothing new: `c360 run` once more on the same data dir, no new delivery and the same as-of date:
   what a run costs whatever the day brought (its distance to the increment is the cost of the day's own rows);
5. the single-pass DuckDB SQL bound (`benchmarks/sql_bound.sql`) over the same landing, 3 times;
6. CLV: our `models/` fit (`benchmarks/clv_fit.py`) and pandas + lifetimes (`benchmarks/lifetimes_fit.py`, in
   `.venv-bench`) on the same orders, 3 times each.

Every command runs as a child process measured over its whole process tree (`benchmarks/proctree.py`). Per-step
times of the pipeline come from the run's Dagster event log. Results:
`benchmarks/results/<date>-<scale>-<HHMM>-<commit>.json` and `.md` (UTC start, the commit measured), and `latest.md`
(the newest of each scale). The pipeline is driven only through its CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import report
from benchmarks.proctree import Measurement, measure

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent
RUN_ID = re.compile(r"\brun ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
NOTE = (
    "2 cores shared with other engineers' builds and tests during the run, so wall times are noisy (compare CPU "
    "times, and the load averages above)."
)


#: The settings that change a run's speed and memory (README, "Configuration"), recorded with every result when set:
#: an L run without C360_DUCKDB_MEMORY_LIMIT lets DuckDB take 80% of the machine's memory, so its numbers are another
#: experiment. None of them is secret: keys and DSNs are never on the list.
PERFORMANCE_SETTINGS = (
    "C360_DUCKDB_MEMORY_LIMIT",
    "C360_DUCKDB_THREADS",
    "C360_DBT_THREADS",
    "C360_EXTRACT_BATCH_ROWS",
)


def performance_settings(env: dict[str, str]) -> dict[str, str]:
    """The PERFORMANCE_SETTINGS `env` sets (the runs inherit this process's environment)."""
    return {name: env[name] for name in PERFORMANCE_SETTINGS if env.get(name)}


def log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    ram = next(
        int(line.split()[1]) * 1024 for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    try:
        os_name = next(
            line.split("=", 1)[1].strip('"')
            for line in Path("/etc/os-release").read_text().splitlines()
            if line.startswith("PRETTY_NAME=")
        )
    except (OSError, StopIteration):
        os_name = platform.system()
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout.strip())
    import duckdb

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram / 2**30,
        "os": f"{os_name}, Linux {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def _checked(step: Measurement, what: str, log_path: Path) -> Measurement:
    if step.returncode != 0:
        raise SystemExit(f"{what} failed (exit {step.returncode}); see {log_path}")
    return step


def _env(data_dir: Path) -> dict[str, str]:
    """The runs' environment. The increment is an ordinary day: its as-of date (2026-11-01) is a Sunday, the default
    C360_DBT_FULL_TEST_WEEKDAY, whose weekly run also checks all history (README, "Incremental facts")."""
    return {
        **os.environ,
        "C360_DATA_DIR": str(data_dir),
        "C360_SOURCE": "synthetic",
        "C360_DBT_FULL_TEST_WEEKDAY": "none",
        "PYTHONUNBUFFERED": "1",
    }


def cached_generate(cache: Path, scale: str, seed: int) -> dict[str, dict]:
    """Generate the landing and increment 1 once per scale and seed; the timings of the generating run."""
    record = cache / "generate.json"
    if record.exists():
        log(f"reusing cached data in {cache}")
        return {
            name: {**step, "note": "cached: measured when generated"}
            for name, step in json.loads(record.read_text()).items()
        }
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    steps = {}
    for name, extra, out in (
        ("generate", [], "landing"),
        ("generate increment 1", ["--increment", "1"], "increment-1"),
    ):
        log(f"{name} scale {scale} seed {seed} -> {cache / out}")
        command = [BIN / "c360", "generate", "--scale", scale, "--seed", str(seed), "--out", cache / out, *extra]
        log_path = cache / f"{out}.log"
        step = _checked(measure(command, env=_env(cache / "generate-data"), cwd=ROOT, log=log_path), name, log_path)
        steps[name] = step.as_dict()
    shutil.rmtree(cache / "generate-data", ignore_errors=True)
    record.write_text(json.dumps(steps, indent=2))
    return steps


def as_of(landing: Path) -> str:
    return str(json.loads((landing / "_manifest.json").read_text())["end_date"])


def pipeline_steps(dagster_home: Path, run_id: str) -> list[dict] | None:
    """Step wall times from the run's Dagster event log, or None if the run's events are not stored there."""
    try:
        import dagster as dg

        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
            events = [
                (entry.dagster_event.event_type_value, entry.step_key, entry.timestamp)
                for entry in instance.all_logs(run_id, of_type=kinds)
            ]
    except Exception as exc:  # the event store is the pipeline's business: report what is missing, keep going
        log(f"no step timings for run {run_id}: {type(exc).__name__}: {exc}")
        return None
    return report.step_durations(events) or None


def clv_seconds(run_id: str) -> float | None:
    """The CLV models' time inside the run's dbt build, from the `run_results.json` of its dbt call (dagster-dbt's
    target dir `dbt_<step>-<run id[:7]>-<call>`)."""
    for results in (ROOT / "dbt_project" / "target").glob(f"dbt_*-{run_id[:7]}-*/run_results.json"):
        seconds = report.clv_node_seconds(json.loads(results.read_text()))
        if seconds is not None:
            return seconds
    return None


#: `make manifest` in a child process, saying whether it had to parse: the dbt manifest a deployment prepares once per
#: code change (dagster-dbt's prepare step), not on every run.
PREPARE_MANIFEST = (
    "from pathlib import Path; from orchestration.config import Settings; "
    "from orchestration.transform.project import artifact_is_stale, dbt_project, ensure_manifest; "
    "stale = artifact_is_stale(Path(dbt_project().manifest_path)); ensure_manifest(Settings.from_env()); "
    "print('parsed' if stale else 'fresh')"
)


def prepare_manifest(data_dir: Path, logs: Path) -> tuple[Measurement, bool]:
    """Parse the dbt project before the timed runs, as a deployment does when the code changes, so that the full
    run measures a daily refresh and not the first parse after a checkout; the parse is reported on its own row."""
    log_path = logs / "prepare-manifest.log"
    command = [BIN / "python", "-c", PREPARE_MANIFEST]
    step = _checked(measure(command, env=_env(data_dir), cwd=ROOT, log=log_path), "dbt manifest", log_path)
    parsed = log_path.read_text(errors="replace").strip().splitlines()[-1:] == ["parsed"]
    log(f"dbt manifest: {'parsed' if parsed else 'already current'} in {step.wall_s:.1f} s")
    return step, parsed


def pipeline_run(name: str, data_dir: Path, logs: Path) -> tuple[Measurement, dict]:
    log(f"{name}: c360 run in {data_dir}")
    log_path = logs / f"{name.replace(' ', '-')}.log"
    step = _checked(
        measure([BIN / "c360", "run"], env=_env(data_dir), cwd=ROOT, log=log_path), f"c360 run ({name})", log_path
    )
    match = RUN_ID.search(log_path.read_text(errors="replace"))
    run_id = match.group(1) if match else None
    steps = pipeline_steps(data_dir / "dagster_home", run_id) if run_id else None
    detail: dict = {"run_id": run_id, "log": str(log_path), "steps": steps}
    if steps:
        detail["stages"] = report.stage_seconds(steps, clv_seconds(run_id))
        detail["outside_steps_s"] = step.wall_s - sum(s["seconds"] for s in steps)
    log(f"{name}: {step.wall_s:.1f} s wall, {step.cpu_s:.1f} s CPU, {step.peak_tree_rss_bytes / 1e9:.2f} GB peak tree")
    return step, detail


def sql_bound(landing: Path, day: str, repeats: int, logs: Path) -> tuple[dict, Measurement]:
    runs, steps = [], []
    for attempt in range(repeats):
        log_path = logs / f"sql-bound-{attempt + 1}.log"
        command = [sys.executable, "-m", "benchmarks.sql_bound", "--landing", landing, "--as-of", day]
        steps.append(_checked(measure(command, cwd=ROOT, log=log_path), "SQL bound", log_path))
        runs.append(json.loads(log_path.read_text().strip().splitlines()[-1]))
    result = {**runs[-1], "repeats": repeats, "runs_s": [run["seconds"] for run in runs]}
    result["median_s"] = report.median(result["runs_s"])
    if all("cpu_seconds" in run for run in runs):
        result["median_cpu_s"] = report.median(run["cpu_seconds"] for run in runs)
    result.pop("seconds")
    result.pop("cpu_seconds", None)
    middle = sorted(steps, key=lambda step: step.wall_s)[len(steps) // 2]
    return result, middle


def clv(landing: Path, day: str, repeats: int, logs: Path, bench_python: Path) -> tuple[dict, dict[str, Measurement]]:
    work = logs / "clv"
    steps, results = {}, {}
    commands = {
        "ours": [sys.executable, "-m", "benchmarks.clv_fit", "--landing", landing, "--work", work],
        "lifetimes": [bench_python, "-m", "benchmarks.lifetimes_fit", "--work", work],
    }
    for name, command in commands.items():
        log(f"CLV fit, {name}, {repeats} times")
        log_path = logs / f"clv-{name}.log"
        command = [*command, "--as-of", day, "--repeats", str(repeats)]
        steps[name] = _checked(measure(command, cwd=ROOT, log=log_path), f"CLV fit ({name})", log_path)
        results[name] = json.loads(log_path.read_text().strip().splitlines()[-1])
    return {"repeats": repeats, **results}, steps


def bench_scale(
    scale: str,
    seed: int,
    bench_dir: Path,
    repeats: int,
    bench_python: Path,
    *,
    note: str = NOTE,
    reuse_runs: bool = False,
) -> dict:
    started_at = datetime.now(UTC)
    load_start = list(os.getloadavg())
    cache = bench_dir / f"{scale}-seed{seed}"
    generated = cached_generate(cache, scale, seed)
    landing, increment = cache / "landing", cache / "increment-1"
    data_dir = bench_dir / f"{scale}-seed{seed}-run"
    logs = data_dir / "bench-logs"
    measured = logs / "pipeline-runs.json"  # each run's measurement as soon as it is taken, for --reuse-runs
    saved = json.loads(measured.read_text()) if reuse_runs and measured.exists() else {}
    if saved.get("increment"):  # the pipeline runs of an interrupted invocation, measured already
        log(f"reusing the pipeline runs measured in {measured}")
        started_at, load_start = datetime.fromisoformat(saved["started_at"]), saved["load_start"]
        full, inc = Measurement(**saved["full"]), Measurement(**saved["increment"])
        full_detail, inc_detail = saved["full_detail"], saved["increment_detail"]
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        logs.mkdir(parents=True)
        shutil.copytree(landing, data_dir / "landing" / "synthetic")
        manifest, parsed = prepare_manifest(data_dir, logs)
        saved = {
            "started_at": started_at.isoformat(),
            "load_start": load_start,
            "manifest": {**manifest.as_dict(), "parsed": parsed},
        }
        full, full_detail = pipeline_run(report.RUNS["full"], data_dir, logs)
        saved.update(full=full.as_dict(), full_detail=full_detail)
        measured.write_text(json.dumps(saved, indent=2))
        shutil.copytree(increment, data_dir / "landing" / "synthetic", dirs_exist_ok=True)
        inc, inc_detail = pipeline_run(report.RUNS["increment"], data_dir, logs)
        saved.update(increment=inc.as_dict(), increment_detail=inc_detail)
        measured.write_text(json.dumps(saved, indent=2))
    if saved.get("rerun"):
        rerun, rerun_detail = Measurement(**saved["rerun"]), saved["rerun_detail"]
    else:  # the data dir is as the increment left it: nothing new is delivered
        rerun, rerun_detail = pipeline_run(report.RUNS["rerun"], data_dir, logs)
        saved.update(rerun=rerun.as_dict(), rerun_detail=rerun_detail)
        measured.write_text(json.dumps(saved, indent=2))
    day = as_of(landing)
    log(f"SQL bound, {repeats} times")
    bound, bound_step = sql_bound(landing, day, repeats, logs)
    clv_result, clv_steps = clv(landing, day, repeats, logs, bench_python)

    processes = {name: dict(step) for name, step in generated.items()}
    if saved.get("manifest"):
        manifest = dict(saved["manifest"])
        parsed = manifest.pop("parsed")
        processes["dbt manifest (make manifest: once per code change, before the runs)"] = {
            **manifest,
            "note": "parsed the project (cold)" if parsed else "already current (parsed earlier): no parse",
        }
    for run, step in (("full", full), ("increment", inc), ("rerun", rerun)):
        processes[report.process_name(run)] = step.as_dict()
    processes["SQL bound (one process, median run)"] = {
        **bound_step.as_dict(),
        "note": f"script alone {bound['median_s']:.2f} s (median)",
    }
    for name, step in clv_steps.items():
        processes[f"CLV fit, {name} ({repeats}x, one process)"] = {
            **step.as_dict(),
            "note": f"median fit {clv_result[name]['fit_s']:.2f} s",
        }
    clv_step = (full_detail.get("stages") or {}).get("clv")
    ours, theirs = clv_result["ours"], clv_result["lifetimes"]
    return {
        "scale": scale,
        "seed": seed,
        "as_of": day,
        "increment_as_of": as_of(increment),
        "started_at": f"{started_at:%Y-%m-%d %H:%M} UTC",
        "finished_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "load_average": {"start": load_start, "end": list(os.getloadavg())},
        "note": note,
        "machine": machine(),
        "settings": performance_settings(dict(os.environ)),
        "processes": processes,
        "runs": {"full": full_detail, "increment": inc_detail, "rerun": rerun_detail},
        "sql_bound": bound,
        "clv": clv_result,
        "ratios": {
            "full_over_sql_bound": report.ratio(full.wall_s, bound["median_s"]),
            "increment_over_full": report.ratio(inc.wall_s, full.wall_s),
            "rerun_over_full": report.ratio(rerun.wall_s, full.wall_s),
            "clv_step_over_our_fit": report.ratio(clv_step, ours["total_s"]),
            "lifetimes_fit_over_our_fit": report.ratio(theirs["fit_s"], ours["fit_s"]),
            "lifetimes_total_over_our_total": report.ratio(theirs["total_s"], ours["total_s"]),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["S", "M"], choices=["XS", "S", "M", "L"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3, help="runs of the SQL bound and each CLV fit (median)")
    parser.add_argument(
        "--bench-dir", type=Path, default=Path(os.environ.get("C360_BENCH_DIR", ROOT / "data" / "bench"))
    )
    parser.add_argument("--bench-python", type=Path, default=ROOT / ".venv-bench" / "bin" / "python")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--note", default=NOTE, help="what the results file says about the machine's load")
    parser.add_argument(
        "--reuse-runs",
        action="store_true",
        help="keep the pipeline runs an interrupted invocation measured; redo only the SQL bound and CLV",
    )
    args = parser.parse_args(argv)
    # a SIGTERM unwinds like Ctrl-C, so the pipeline run being measured is stopped with the harness, not orphaned
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not args.bench_python.exists():
        raise SystemExit(f"{args.bench_python} not found: run `make bench` (it builds .venv-bench)")

    args.results.mkdir(parents=True, exist_ok=True)
    for scale in args.scales:
        result = bench_scale(
            scale,
            args.seed,
            args.bench_dir.resolve(),
            args.repeats,
            args.bench_python,
            note=args.note,
            reuse_runs=args.reuse_runs,
        )
        stem = args.results / report.result_stem(result)
        stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=float) + "\n")
        section = report.markdown(result)
        stem.with_suffix(".md").write_text(section)
        print(section, flush=True)
        log(f"wrote {stem}.json and .md")
    report.write_latest(args.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
