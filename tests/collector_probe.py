"""Run by test_collector.py through `run_with_collector_off("tests.collector_probe", <args>)`: reports, as one JSON
line, what the collector was at this module's import and after the command's `after_imports()`."""

from __future__ import annotations

import gc
import json
import sys

from c360_cli.collector import after_imports, before_exit

ENABLED_AT_IMPORT = gc.isenabled()


if __name__ == "__main__":
    after_imports()
    report = {
        "enabled_at_import": ENABLED_AT_IMPORT,
        "argv": sys.argv[1:],
        "enabled": gc.isenabled(),
        "thresholds": list(gc.get_threshold()),
        "frozen": gc.get_freeze_count(),
    }
    print(json.dumps(report))
    before_exit()
