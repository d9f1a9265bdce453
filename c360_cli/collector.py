"""Python's cyclic garbage collector in a `c360` process: off while it imports, then tuned for a run's heap.

Why (an XS `c360 run`, collections timed with `gc.callbacks`): the libraries a run imports (Dagster, dbt, dlt) and
what it builds from them (dbt's manifest, Dagster's definitions) are ~550k objects that live as long as the process,
and CPython's default thresholds (700/10/10) walk all of them in every full collection: ~1.2 s of collections during
the imports, ~2.6 s during the run, and ~1.8 s after `main` returned, when the interpreter collects the whole heap
once more before the process ends. None of it frees memory that matters: a run's memory is DuckDB's.

- The launcher runs a command with the collector off (`run_with_collector_off`), so the imports allocate without
  collections.
- `after_imports()` moves everything alive to the permanent generation (`gc.freeze()`: never walked again), turns the
  collector back on and raises the first generation's threshold, so a young collection runs per 20,000 net
  allocations instead of 700; garbage cycles are still collected, in fewer and cheaper passes.
- `before_exit()` collects once (what the run left as garbage is freed now, as it would be at exit: a DuckDB object
  left in a cycle would otherwise outlive the interpreter and its bindings warn on stderr) and freezes the rest, so
  the interpreter's last collections have nothing left to walk.
"""

from __future__ import annotations

import gc
import runpy
import sys


def run_with_collector_off(module: str, argv: list[str]) -> None:
    """Run `module` as `python -m module *argv` would, in this process, with the collector off until the command calls
    `after_imports()`. In this process rather than an exec'd interpreter, which imported again what the launcher had
    (its settings pull in pyarrow and DuckDB: 0.26-0.35 s quiet, 0.7-0.9 s busy)."""
    gc.disable()
    sys.argv = [module, *argv]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


#: Young, middle and old generation thresholds once the imports are done (CPython's defaults: 700, 10, 10).
THRESHOLDS = (20_000, 20, 20)


def after_imports() -> None:
    """Freeze what the imports left and collect the rest with `THRESHOLDS`; harmless in a process (a test) that
    started with the collector on."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    gc.enable()


def before_exit() -> None:
    """One collection of the whole heap instead of the interpreter's several at exit; what is left is freed when the
    interpreter clears its modules."""
    gc.collect()
    gc.freeze()
