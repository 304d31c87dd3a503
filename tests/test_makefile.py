"""`make demo` (read with `make -n`, which prints the commands without running them)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_make_demo_serves_on_port_8000_by_default():
    out = dry_run()
    assert "runserver 127.0.0.1:8000" in out
    assert "http://127.0.0.1:8000" in out


def test_make_demo_port_8001_serves_there_and_links_the_emails_there():
    out = dry_run("PORT=8001")
    assert "runserver 127.0.0.1:8001" in out
    assert "8000" not in out
    # The emails' links (SITE_URL, exported to every step) point at the same port.
    assert "Serving the demo on http://127.0.0.1:8001" in out
