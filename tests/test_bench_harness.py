"""The `make bench` harness's pure pieces: the process-tree sampler and the result formatting (fast, no pipeline)."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from benchmarks import report, run
from benchmarks.proctree import measure, process_tree

MB = 1_000_000

# A parent that starts two children, each holding `size` bytes touched page by page, then all exit together.
ALLOCATING_TREE = textwrap.dedent(
    """
    import subprocess, sys, time
    size = int(sys.argv[1])
    hold = "b = bytearray(%d); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)" % size
    children = [subprocess.Popen([sys.executable, "-c", "import time; " + hold]) for _ in range(2)]
    exec(hold)
    for child in children:
        child.wait()
    """
)


def test_peak_memory_is_summed_over_the_whole_tree():
    size = 200 * MB
    step = measure([sys.executable, "-c", ALLOCATING_TREE, str(size)], interval=0.05)
    assert step.returncode == 0
    assert step.peak_processes == 3
    # three processes each holding `size` (plus an interpreter of ~10 MB each)
    assert 3 * size <= step.peak_tree_rss_bytes <= 3 * size + 150 * MB
    assert size <= step.peak_process_rss_bytes <= size + 60 * MB
    assert step.samples >= 5


def test_cpu_time_counts_the_children():
    burn = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    spawn = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}], check=True)"
    step = measure([sys.executable, "-c", spawn])
    assert step.returncode == 0
    assert 0.4 <= step.cpu_s < step.wall_s + 1


def test_failing_command_reports_its_exit_code(tmp_path):
    log = tmp_path / "out.log"
    step = measure([sys.executable, "-c", "print('hello'); raise SystemExit(3)"], log=log)
    assert step.returncode == 3
    assert log.read_text() == "hello\n"


def test_an_interrupted_measurement_stops_the_whole_tree(tmp_path):
    import signal
    import threading

    from benchmarks.proctree import _alive

    pids = tmp_path / "pids"
    tree = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(60)\n"
    )

    def interrupt_when_started():
        while not pids.exists() or len(pids.read_text().split()) < 2:
            time.sleep(0.05)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # interrupts the wait, as Ctrl-C does

    import time

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    # Ctrl-C raises KeyboardInterrupt in `make bench`; an xdist worker ignores SIGINT, so restore Python's default here.
    # After an in-process Dagster run the worker ignores SIGTERM too (Dagster maps SIGTERM to SIGINT's handler), and a
    # child inherits an ignored signal: the tree would outlive the SIGTERM until the SIGKILL 10 s later.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        with pytest.raises(KeyboardInterrupt):
            measure([sys.executable, "-c", tree])
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
    assert not any(_alive(int(pid)) for pid in pids.read_text().split())


def test_process_tree_of_this_process_contains_it():
    import os

    assert process_tree(os.getpid())[0] == os.getpid()


@pytest.mark.parametrize(
    ("step", "stage"),
    [
        ("raw__crm_orders", "extract"),
        ("extract_crm", "extract"),
        ("ops__preflight", "extract"),
        ("raw__crm_orders_gx_raw_crm_orders", "gates"),
        ("marts__mart_clv_gx_mart_clv", "gates"),
        ("dbt_warehouse", "dbt"),
        ("published__marts", "publish"),
        ("something_new", "other"),
    ],
)
def test_stage_of(step, stage):
    assert report.stage_of(step) == stage


def test_step_durations_and_stage_sums():
    events = [
        ("STEP_START", "raw__crm_orders", 10.0),
        ("STEP_START", "dbt_warehouse", 12.0),  # parallel steps are fine
        ("STEP_SUCCESS", "raw__crm_orders", 11.5),
        ("STEP_START", "raw__crm_orders_gx_raw_crm_orders", 11.6),
        ("STEP_FAILURE", "raw__crm_orders_gx_raw_crm_orders", 12.6),
        ("STEP_SUCCESS", "dbt_warehouse", 20.0),
        ("STEP_START", "published__marts", 21.0),  # never finished: left out
    ]
    steps = report.step_durations(events)
    assert [step["step"] for step in steps] == ["raw__crm_orders", "raw__crm_orders_gx_raw_crm_orders", "dbt_warehouse"]
    assert [step["ok"] for step in steps] == [True, False, True]
    assert report.stage_seconds(steps) == pytest.approx({"extract": 1.5, "gates": 1.0, "dbt": 8.0})
    # The CLV models run inside the dbt step: their time (from dbt's run_results.json) moves from dbt to clv.
    run_results = {
        "results": [
            {"unique_id": "model.c360.clv_predictions", "execution_time": 0.5},
            {"unique_id": "model.c360.clv_backtest", "execution_time": 0.25},
            {"unique_id": "model.c360.fct_orders", "execution_time": 3.0},
        ]
    }
    clv_s = report.clv_node_seconds(run_results)
    assert clv_s == 0.75 and report.clv_node_seconds({"results": run_results["results"][2:]}) is None
    assert report.stage_seconds(steps, clv_s) == pytest.approx({"extract": 1.5, "gates": 1.0, "dbt": 7.25, "clv": 0.75})


def test_ratio():
    assert report.ratio(30, 10) == 3
    assert report.ratio(None, 10) is None
    assert report.ratio(1, 0) is None


def _step(wall, cpu, tree, largest, note=""):
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_tree_rss_bytes": tree,
        "peak_process_rss_bytes": largest,
        "note": note,
    }


def _result():
    clv = {"customers": 9000, "orders": 30000, "summary_s": 0.5, "fit_s": 0.25, "total_s": 0.75}
    return {
        "scale": "S",
        "seed": 7,
        "as_of": "2026-10-31",
        "started_at": "2026-11-30 02:00 UTC",
        "load_average": {"start": [1.5, 2.0, 2.5], "end": [3.0, 2.0, 1.0]},
        "note": "shared machine.",
        "machine": {
            "cpu": "Some CPU",
            "cores": 2,
            "ram_gb": 23.4,
            "os": "Debian",
            "python": "3.11.9",
            "duckdb": "2.0.0",
            "git_commit": "abc1234",
            "git_dirty": False,
        },
        "processes": {
            "generate": _step(1.5, 1.4, 300 * MB, 300 * MB, "cached: measured when generated"),
            "full run (c360 run)": _step(62.0, 70.0, 1_900 * MB, 900 * MB),
            "SQL bound (one process, median run)": _step(1.0, 1.4, 200 * MB, 200 * MB),
        },
        "runs": {
            "full": {"stages": {"extract": 5.0, "dbt": 40.0, "clv": 1.25}, "outside_steps_s": 15.75},
            "increment": {"stages": None},
        },
        "sql_bound": {"median_s": 0.62, "repeats": 3},
        "clv": {"repeats": 3, "ours": clv, "lifetimes": {**clv, "fit_s": 2.5, "summary_s": 1.0, "total_s": 3.5}},
        "ratios": {
            "full_over_sql_bound": 100.0,
            "increment_over_full": 0.9,
            "clv_step_over_our_fit": 1.6667,
            "lifetimes_fit_over_our_fit": 10.0,
            "lifetimes_total_over_our_total": None,
        },
    }


def test_cpu_ratios_prefer_the_scripts_own_cpu_time():
    result = _result()
    result["sql_bound"]["median_cpu_s"] = 0.7
    result["processes"]["increment run (c360 run)"] = _step(30.0, 35.0, 0, 0)
    assert report.cpu_ratios(result) == {
        "sql_bound_cpu_s": 0.7,
        "full_over_sql_bound_cpu": pytest.approx(100.0),
        "increment_over_full_cpu": pytest.approx(0.5),
        "rerun_over_full_cpu": None,
    }


def test_a_rerun_with_nothing_new_gets_its_own_column_and_ratios():
    """The third run (nothing delivered) beside the full run and the increment: what a run costs whatever the day
    brought. A result recorded before it keeps its two columns (test_markdown_table)."""
    result = _result()
    result["processes"]["increment run (c360 run)"] = _step(33.0, 49.0, 0, 0)
    result["processes"]["rerun with nothing new (c360 run)"] = _step(31.0, 35.0, 0, 0)
    result["runs"] = {
        "full": {"stages": {"extract": 5.0, "dbt": 40.0}, "outside_steps_s": 15.75},
        "increment": {"stages": {"extract": 1.0, "dbt": 20.0}, "outside_steps_s": 12.0},
        "rerun": {"stages": {"extract": 0.5, "dbt": 19.0}, "outside_steps_s": 11.5},
    }
    result["ratios"]["rerun_over_full"] = 0.5
    lines = report.markdown(result).splitlines()
    assert (
        "| pipeline stage (sum of Dagster step wall times) | full run | increment run | rerun with nothing new |"
        in lines
    )
    assert "| extract | 5.00 s | 1.00 s | 0.50 s |" in lines
    assert "| outside steps (imports, parse, planning, report) | 15.8 s | 12.0 s | 11.5 s |" in lines
    assert "| rerun with nothing new (c360 run) | 31.0 s | 35.0 s | - | - |  |" in lines
    assert "| rerun with nothing new / full run | 0.50x |" in lines
    assert "| rerun with nothing new / full run, CPU time | 0.50x |" in lines
    assert not [line for line in lines if "rerun" in line and "| - |" in line and "c360 run" not in line]
    old = report.markdown(_result())
    assert (
        "rerun" not in old and "| pipeline stage (sum of Dagster step wall times) | full run | increment run |" in old
    )


def test_rerender_and_latest(tmp_path):
    for scale in ("S", "XS"):
        (tmp_path / f"2026-11-29-{scale}.json").write_text(json.dumps({**_result(), "scale": scale}))
    (tmp_path / "2026-11-30-S.json").write_text(json.dumps({**_result(), "started_at": "newer"}))
    for path in sorted(tmp_path.glob("*.json")):
        report.rerender(path)
    report.write_latest(tmp_path)
    latest = (tmp_path / "latest.md").read_text()
    assert latest.index("### Scale XS") < latest.index("### Scale S (seed 7, as of 2026-10-31), newer")
    assert latest.count("### Scale") == 2


def test_each_run_keeps_its_own_files_named_by_start_time_and_commit(tmp_path):
    """Two runs of a scale on one day no longer overwrite each other; latest.md shows the later one, also against a
    file named the old way (`<date>-<scale>`), which counts as the day's earliest."""
    morning = {**_result(), "scale": "M", "started_at": "2026-12-04 04:47 UTC"}
    evening = {**_result(), "scale": "M", "started_at": "2026-12-04 18:05 UTC"}
    evening["machine"] = {**evening["machine"], "git_commit": "def5678", "git_dirty": True}
    assert report.result_stem(morning) == "2026-12-04-M-0447-abc1234"
    assert report.result_stem(evening) == "2026-12-04-M-1805-def5678-dirty"
    night = {**morning, "started_at": "2026-12-04 23:59 UTC"}
    (tmp_path / "2026-12-04-M.md").write_text(report.markdown(morning))  # the old name, same day
    for result in (evening, night):
        (tmp_path / f"{report.result_stem(result)}.md").write_text(report.markdown(result))
    (tmp_path / "2026-12-03-M-2300-abc1234.md").write_text(report.markdown({**morning, "started_at": "the day before"}))
    report.write_latest(tmp_path)
    latest = (tmp_path / "latest.md").read_text()
    assert latest.count("### Scale") == 1 and "2026-12-04 23:59 UTC" in latest


def test_markdown_table():
    text = report.markdown(_result())
    lines = text.splitlines()
    assert lines[0] == "### Scale S (seed 7, as of 2026-10-31), 2026-11-30 02:00 UTC"
    assert "| generate | 1.50 s | 1.40 s | 0.30 GB | 0.30 GB | cached: measured when generated |" in lines
    assert "| full run (c360 run) | 62.0 s | 70.0 s | 1.90 GB | 0.90 GB |  |" in lines
    assert "| dbt | 40.0 s | - |" in lines
    assert "| clv | 1.25 s | - |" in lines
    assert "| outside steps (imports, parse, planning, report) | 15.8 s | - |" in lines
    assert "| full run / single-pass DuckDB SQL bound (0.62 s, median of 3) | 100.0x |" in lines
    assert "| increment run / full run | 0.90x |" in lines
    # CPU ratios from the processes (no script-only CPU recorded here: the bound's whole process counts)
    assert "| full run / SQL bound, CPU time (all threads and processes; bound 1.40 s) | 50.0x |" in lines
    assert "| increment run / full run, CPU time | - |" in lines
    assert "| lifetimes summary + fit / ours | - |" in lines
    assert "Load average (1/5/15 min) at start 1.50 / 2.00 / 2.50, at end 3.00 / 2.00 / 1.00" in text
    assert "Some CPU, 2 cores, 23 GB RAM, Debian, Python 3.11.9, duckdb 2.0.0, commit abc1234." in text
    # every table row has as many cells as its header
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({row.count("|") for row in rows}) <= 1, block


def test_results_name_the_performance_settings_they_ran_with():
    """An L run with C360_DUCKDB_MEMORY_LIMIT=5GB and one without are different experiments (6.1 GB and 21.6 GB
    peak on 12-03): the result says which, and never records a setting outside the list (keys, DSNs)."""
    env = {"C360_DUCKDB_MEMORY_LIMIT": "5GB", "C360_PII_KEY": "secret", "C360_DBT_THREADS": "", "PATH": "/bin"}
    assert run.performance_settings(env) == {"C360_DUCKDB_MEMORY_LIMIT": "5GB"}

    limited = report.markdown({**_result(), "settings": {"C360_DUCKDB_MEMORY_LIMIT": "5GB", "C360_DBT_THREADS": "1"}})
    assert limited.splitlines()[-1] == "Settings: `C360_DBT_THREADS=1`, `C360_DUCKDB_MEMORY_LIMIT=5GB`."
    defaults = report.markdown({**_result(), "settings": {}})
    assert defaults.splitlines()[-1].startswith("Settings: the defaults (no C360_DUCKDB_MEMORY_LIMIT")
    assert "Settings:" not in report.markdown(_result())  # a result recorded before settings were
