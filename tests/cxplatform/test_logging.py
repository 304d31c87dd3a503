"""What the server's log says about a refused request: one line, no traceback."""

from __future__ import annotations

import io
import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_output(settings):
    """Everything the configured handlers print (root's and Django's), as the demo's
    console shows it: DEBUG on, as in ``make demo``."""
    settings.DEBUG = True
    stream = io.StringIO()
    handlers = {
        handler
        for name in ("", "django", "django.request", "django.security")
        for handler in logging.getLogger(name).handlers
        if handler.get_name() == "console"  # the configured ones, not pytest's capture
    }
    assert handlers, "the LOGGING setting configures a console handler"
    old = {handler: handler.setStream(stream) for handler in handlers}
    yield stream
    for handler, previous in old.items():
        handler.setStream(previous)


def test_a_refused_request_logs_one_line_without_a_traceback(viewer, log_output):
    assert viewer.get(reverse("feedback:campaign_create")).status_code == 403
    lines = [line for line in log_output.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Forbidden" in lines[0]
    assert "/campaigns/new/" in lines[0]
    assert "Traceback" not in log_output.getvalue()


def test_a_server_error_still_logs_its_traceback(log_output):
    logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.error("Internal Server Error: /x/", exc_info=True, extra={"status_code": 500})
    output = log_output.getvalue()
    assert output.count("Internal Server Error") == 1
    assert "Traceback" in output
    assert "RuntimeError: boom" in output
