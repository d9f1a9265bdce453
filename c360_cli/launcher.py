"""The `c360` console script: settings and `run`'s preflight are checked before the CLI's heavy imports.

Importing the CLI (Dagster, dbt, dlt, GX) costs 5-10 s of CPU; an unknown setting, a missing landing folder or a
refused PostgreSQL DSN must fail in about a second. So this module imports only the settings and the preflight, and
then replaces itself with `python -m c360_cli.main`, or `c360_cli.run` for `run` (exec, not a lazy import: the
project's import rules hold), started with the garbage collector off until the command's imports are done
(collector.py).
"""

from __future__ import annotations

import os
import sys

from c360_cli.collector import STARTUP
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
    sys.stdout.flush()
    module = COMMAND_MODULES.get(argv[0] if argv else "", "c360_cli.main")
    os.execv(sys.executable, [sys.executable, "-c", STARTUP, module, *argv])  # `python -m module`, collector off
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
