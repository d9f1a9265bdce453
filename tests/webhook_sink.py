"""The alert sink tests use: a real HTTP endpoint on localhost that records the JSON alerts POSTed to it."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest


class Webhook:
    """Serves until `shutdown()`; `url` is what C360_ALERT_WEBHOOK_URL gets, `received` the alerts in order."""

    def __init__(self, path: str = "/alerts") -> None:
        received: list[dict] = []
        self.received = received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def shutdown(self) -> None:
        self.server.shutdown()


@pytest.fixture(name="webhook")
def webhook_fixture() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.shutdown()
