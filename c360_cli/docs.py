"""`c360 docs`: build the dbt docs site of the published marts and serve it on 127.0.0.1 (`make docs`)."""

from __future__ import annotations

import argparse
import os
import sys

from orchestration.config import Settings
from orchestration.transform.docs_site import (
    DEFAULT_DOCS_PORT,
    DocsBuildError,
    NothingPublishedError,
    build_docs,
    serve_command,
)


def add_docs_parser(sub: argparse._SubParsersAction) -> None:
    docs = sub.add_parser(
        "docs", help="build the dbt docs site (project overview, marts, metrics) and serve it locally"
    )
    docs.add_argument(
        "--port", type=int, default=DEFAULT_DOCS_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_DOCS_PORT})"
    )
    docs.add_argument("--no-serve", action="store_true", help="build only")
    docs.set_defaults(func=cmd_docs)


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    try:
        site = build_docs(settings)
    except (NothingPublishedError, DocsBuildError) as exc:
        print(f"c360 docs: {exc}", file=sys.stderr)
        return 1
    print(f"dbt docs built: {site.index} ({site.documented_tables} published tables in the catalog)")
    if args.no_serve:
        return 0
    print(f"serving dbt docs on http://127.0.0.1:{args.port}/ (Ctrl-C stops it)", flush=True)
    command = serve_command(settings, args.port)
    os.execv(command[0], command)  # the server replaces this process: Ctrl-C and kill reach dbt directly
    return 0  # not reached
