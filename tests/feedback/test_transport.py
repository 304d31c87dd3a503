"""The transport: the rate limit, what an SMTP failure means, and the fence that keeps
an SMTP exchange from outliving its batch's lease."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys

import pytest

from feedback.services import transport


def test_the_rate_limit_holds_a_process_to_n_emails_per_second(monkeypatch):
    clock = {"now": 1000.0}
    slept = []
    monkeypatch.setattr(transport.time, "time", lambda: clock["now"])

    def sleep(seconds):
        slept.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(transport.time, "sleep", sleep)
    limiter = transport.RateLimiter(per_second=5)
    for _ in range(12):
        limiter.wait()
    assert len(slept) == 2  # 5 in the first second, 5 in the next, 2 in the third
    assert clock["now"] >= 1002.0


def _default_setting(name):
    """The setting as the settings module computes it with no environment variable."""
    env = {k: v for k, v in os.environ.items() if k != name}
    code = f"import cxplatform.settings as s; print(s.{name})"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def test_no_rate_limit_by_default(monkeypatch, settings):
    # A frozen clock: any wait for the next second would show as a sleep.
    clock = {"now": 1000.0}
    slept = []
    monkeypatch.setattr(transport.time, "time", lambda: clock["now"])

    def sleep(seconds):
        slept.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(transport.time, "sleep", sleep)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens: a connection would fail
    monkeypatch.setattr(transport, "_limiter", None)
    settings.CX_DELIVERY_RATE_LIMIT = _default_setting("CX_DELIVERY_RATE_LIMIT")
    limiter = transport.rate_limiter()
    assert limiter.per_second == 0
    for _ in range(1000):
        limiter.wait()
    assert slept == []  # 1000 emails in the same second, none held back
    assert limiter._redis is None  # and no shared counter is even asked


@pytest.mark.parametrize(
    ("exc", "permanent", "broken"),
    [
        (smtplib.SMTPRecipientsRefused({"a": (550, b"no")}), True, False),
        (smtplib.SMTPRecipientsRefused({"a": (450, b"later")}), False, False),
        (smtplib.SMTPDataError(554, b"rejected"), True, False),
        (smtplib.SMTPDataError(421, b"closing"), False, True),
        (smtplib.SMTPSenderRefused(550, b"sender", "x@y"), False, False),
        (smtplib.SMTPServerDisconnected("gone"), False, True),
        (ConnectionRefusedError(111, "refused"), False, True),
        (TimeoutError("timed out"), False, True),
        (ValueError("Invalid address"), True, False),
    ],
)
def test_smtp_errors_are_classified(exc, permanent, broken):
    failure = transport.classify(exc)
    assert (failure.permanent, failure.connection_broken) == (permanent, broken)
