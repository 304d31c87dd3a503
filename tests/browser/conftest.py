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
