"""The `c360` console script: settings and `run`'s preflight are checked before the CLI's heavy imports.

Importing the CLI (Dagster, dbt, dlt, GX) costs 5-10 s of CPU; an unknown setting, a missing landing folder or a
refused PostgreSQL DSN must fail in about a second. So this module imports only the settings and the preflight, and
then runs `c360_cli.main`, or `c360_cli.run` for `run`, as `python -m` would, in this same process (runpy, not a lazy
import: the project's import rules hold), with the garbage collector off until the command's imports are done
(collector.py). In the same process, not an exec'd one: a new interpreter imported the settings' pyarrow and DuckDB
again (0.26-0.35 s of every command on a quiet machine, 0.7-0.9 s on a busy one).
"""

from __future__ import annotations

import sys

from c360_cli.collector import run_with_collector_off
from orchestration.config import Settings, SettingsError
from orchestration.preflight import preflight_problem

PREFLIGHT_COMMANDS = ("run",)
#: A command with a module of its own, which imports only what it needs (`run`: ~0.6 s less than the whole CLI);
#: every other command is main.py's.
COMMAND_MODULES = {"run": "c360_cli.run"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in PREFLIGHT_COMMANDS and not {"-h", "--help"} & set(argv):
        try:
            problem = preflight_problem(Settings.from_env())
        except SettingsError as exc:
            print(f"c360: {exc}", file=sys.stderr)
            return 2
        if problem:
            print(f"c360: preflight failed: {problem}", file=sys.stderr)
            return 2
    module = COMMAND_MODULES.get(argv[0] if argv else "", "c360_cli.main")
    run_with_collector_off(module, argv)  # `python -m module` in this process: it ends with the command's exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
