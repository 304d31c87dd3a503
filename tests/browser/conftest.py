"""Playwright on Debian's Chromium against the live server.

pytest-playwright cannot point at a browser executable, so the launch arguments are
overridden here; Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API keeps a loop

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(chromium_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("chromium-home")
    return {
        "executable_path": chromium_path,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
        "env": {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
        },
    }


@pytest.fixture(scope="session", autouse=True)
def one_request_at_a_time_on_sqlite():
    """With SQLite in memory (``make test`` without DATABASE_URL) the live server's request
    threads share the test's one connection: two requests at once (a page's autosave and a
    click) would interleave their transactions ("cannot start a transaction within a
    transaction"). There the server takes one request at a time; on PostgreSQL (CI) each
    thread has its own connection and the server stays threaded."""
    from django.conf import settings
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class SerialServer(WSGIServer):
        # Requests run in the live server's own thread, which already uses the override.
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    threaded = LiveServerThread.server_class
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        LiveServerThread.server_class = SerialServer
    yield
    LiveServerThread.server_class = threaded


@pytest.fixture
def login(live_server):
    """``login(page, email)`` signs in through the real login form (password ``pw``)."""

    def do(page, email: str, password: str = "pw") -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

    return do


@pytest.fixture
def screenshot():
    """``screenshot(page, name)`` saves test-artifacts/<name>.png for a person to look at."""

    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
