"""Drive the dashboard in headless Chromium: start its server, open a page, and report every error it shows.

A page fails on: an uncaught JavaScript error, a console error, an HTTP error response, and any error Streamlit
renders into the page (a Python exception, e.g. a failed query, or an `st.error`). The system Chromium is driven
through Playwright (`playwright install` cannot download a browser here, so its own browsers are never used).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

REPO = Path(__file__).resolve().parents[1]
DASHBOARD_PYTHON = REPO / ".venv-dashboard" / "bin" / "python"
SERVE = REPO / "dashboard" / "serve.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
READY_TIMEOUT_S = 180

# Streamlit's front end, opened on a page's own URL (/rfm), first probes /rfm/_stcore/health and host-config to find
# the app's base path, gets 404 and falls back to /_stcore/...: that probe is the only error response tolerated.
BASE_PATH_PROBE = re.compile(r"^https?://[^/]+/[^_][^/]*/_stcore/(health|host-config)$")

ERROR_ELEMENTS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
RUNNING = '[data-testid="stStatusWidget"]'
DRAWN = """() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
        .every(chart => chart.querySelector('canvas, svg'))
    && [...document.querySelectorAll('[data-testid="stDataFrame"]')].every(table => table.querySelector('canvas'))
    && !document.querySelector('[data-testid="stSkeleton"]')"""


def missing_prerequisites() -> list[str]:
    """What the browser test needs that is not installed, each with the command that installs it."""
    missing = []
    if not DASHBOARD_PYTHON.is_file():
        missing.append(f"{DASHBOARD_PYTHON} (run `make dashboard-env`)")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (run `make chromium`: apt-get install chromium)")
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard_server(data_dir: Path, log_path: Path) -> Iterator[str]:
    """The dashboard served over `data_dir`'s published marts, as `make dashboard` starts it; yields its base URL."""
    port = free_port()
    env = {**os.environ, "C360_DATA_DIR": str(data_dir)}
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(DASHBOARD_PYTHON), str(SERVE), "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole below
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, server, log_path)
        yield base_url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the dashboard server exited ({server.returncode}): {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the dashboard server did not answer within {READY_TIMEOUT_S} s: {log_path}")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium, fresh profile."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageVisit:
    """What one page showed: its key figures (label -> text as displayed) and every error seen while loading it."""

    title: str
    figures: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


class DashboardTab:
    """One browser tab on the dashboard. The first page is loaded by URL; the others are opened from the sidebar as a
    user does (the app is a single-page app: loading each page by URL would parse its JavaScript again each time)."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1600})
        self.url = url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("console", self._console_error)
        self.page.on("response", self._error_response)
        self.loaded = False

    def open(self, title: str, screenshot: Path, labels: Collection[str] = ()) -> PageVisit:
        """Show the page titled `title` (loading the URL the first time), wait until it has run, shows every key
        figure in `labels` (or, without labels, any figure) and has drawn every chart and table, and screenshot it."""
        started = time.monotonic()
        self.errors = []
        if not self.loaded:
            self.page.goto(self.url)
            self.loaded = True
        else:
            self.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
        self._wait_until_rendered(title, list(labels))
        shown = self.page.locator(ERROR_ELEMENTS).all_inner_texts()
        self.page.screenshot(path=str(screenshot), full_page=True)
        return PageVisit(
            title,
            figures=_key_figures(self.page),
            errors=[*self.errors, *(f"error shown on the page: {text}" for text in shown)],
            seconds=time.monotonic() - started,
        )

    def _wait_until_rendered(self, title: str, labels: list[str]) -> None:
        """Wait for the named figures, not a count of them: Streamlit draws a page's elements as its script runs, and
        the status widget can be absent for a moment between a click and the rerun, so a page can look finished with
        only its first row of figures drawn. A figure that never shows is reported by the caller, with what was."""
        timeout_ms = READY_TIMEOUT_S * 1000
        try:
            self.page.wait_for_function(
                """([title, labels, errors, running]) => {
                    const shown = new Set([...document.querySelectorAll('[data-testid="stMetricLabel"]')]
                        .map(label => label.innerText.trim()));
                    const figures = labels.length ? labels.every(label => shown.has(label)) : shown.size > 0;
                    return [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title)
                        && (figures || document.querySelector(errors) !== null)
                        && !document.querySelector(running);
                }""",
                arg=[title, labels, ERROR_ELEMENTS, RUNNING],
                timeout=timeout_ms,
            )
        except PlaywrightTimeoutError:
            self.errors.append(f"not every figure was shown within {READY_TIMEOUT_S} s")
            return
        self.page.wait_for_function(DRAWN, timeout=timeout_ms)  # charts and tables

    def _console_error(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and BASE_PATH_PROBE.match(source):
            return
        self.errors.append(f"console error: {message.text} ({source})")

    def _error_response(self, response: Response) -> None:
        if response.status >= 400 and not BASE_PATH_PROBE.match(response.url):
            self.errors.append(f"HTTP {response.status}: {response.url}")


def _key_figures(page: Page) -> dict[str, str]:
    figures = {}
    for tile in page.locator('[data-testid="stMetric"]').all():
        label = tile.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        figures[label] = tile.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return figures


def displayed_number(text: str) -> float:
    """A key figure as displayed (`91,441.46`, `32.0%`, `648`) as a number (a share as a fraction)."""
    cleaned = text.replace(",", "").strip()
    if cleaned.endswith("%"):
        return float(cleaned[:-1]) / 100
    return float(cleaned)


def display_tolerance(text: str) -> float:
    """Half a unit of the last digit shown: the most that rounding for display can move a figure."""
    digits = text.rstrip("%").split(".")
    decimals = len(digits[1]) if len(digits) == 2 else 0
    return 0.5 * 10 ** (-decimals - (2 if text.endswith("%") else 0)) + 1e-9
