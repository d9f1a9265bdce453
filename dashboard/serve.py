"""Serve the dashboard on 127.0.0.1 (`make dashboard`; the browser test starts it the same way).

Run with the dashboard's own environment: `.venv-dashboard/bin/python dashboard/serve.py [--port N]`. It prints the
URL, then replaces itself with Streamlit (so stopping it stops the server). Usage statistics and the deploy menu are
off: the server binds the loopback address only and nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import marts

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_argv(port: int, host: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
        "--global.developmentMode=false",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("C360_DASHBOARD_PORT", "8501")))
    args = parser.parse_args()
    published = marts.published_path()
    if not published.is_file():
        sys.exit(f"dashboard: no published marts at {published}: run `make demo` first (or set C360_DATA_DIR)")
    print(f"dashboard: http://127.0.0.1:{args.port}/ (reads {published} read-only; Ctrl-C stops)", flush=True)
    argv = streamlit_argv(args.port)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
