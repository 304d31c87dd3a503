"""The way out: one SMTP connection per batch, the rate limit, and what a failure means.

The outbox (``feedback.services.outbox``) decides what to send and records outcomes; this
module only talks to the mail server. A connection is given a *fence*, the moment its
batch's claim stops protecting it: no SMTP exchange outlives it (the socket's timeouts are
cut to the time left, and a watchdog shuts a socket still busy at the fence), so a hung
server can never keep a worker sending a row that the sweep has handed to another worker.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends import smtp as smtp_backend

from feedback.services import email as email_render

log = logging.getLogger(__name__)


# --- errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    permanent: bool
    error: str
    connection_broken: bool = False


def classify(exc: BaseException) -> Failure:
    """Transient (retry later) or permanent (give up), and whether the connection is gone."""
    text = f"{type(exc).__name__}: {exc}"[:2000]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()] or [0]
        return Failure(permanent=all(code >= 500 for code in codes), error=text)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        # Our sender was refused: not this recipient's fault; retry (and alert by errors).
        return Failure(permanent=False, error=text)
    if isinstance(exc, smtplib.SMTPResponseException):
        if exc.smtp_code == 421:  # the server is closing the connection
            return Failure(permanent=False, error=text, connection_broken=True)
        return Failure(permanent=exc.smtp_code >= 500, error=text)
    if isinstance(exc, ValueError | UnicodeError):
        # Django refuses an address it cannot encode or parse: no retry will fix it.
        return Failure(permanent=True, error=f"Invalid address. {text}")
    # Connection refused / reset / timed out, server disconnected, protocol confusion.
    return Failure(permanent=False, error=text, connection_broken=True)


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: base × 2^(attempts-1), capped."""
    base = settings.CX_DELIVERY_BACKOFF_SECONDS
    delay = min(base * (2 ** max(0, attempts - 1)), settings.CX_DELIVERY_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


# --- rate limit --------------------------------------------------------------------------


class RateLimiter:
    """At most ``CX_DELIVERY_RATE_LIMIT`` emails per second (0: no limit).

    With Redis the budget is shared by every worker (a counter per one-second window);
    without it (the demo) it is this process's own.
    """

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self._redis: Any = None
        self._lock = threading.Lock()
        self._window = 0
        self._count = 0
        if per_second > 0 and settings.REDIS_URL:
            import redis

            self._redis = redis.Redis.from_url(settings.REDIS_URL)

    def wait(self) -> None:
        if self.per_second <= 0:
            return
        limit = max(1, int(self.per_second))
        while True:
            now = time.time()
            window = int(now)
            if self._redis is not None:
                try:
                    key = f"cx:delivery:rate:{window}"
                    pipe = self._redis.pipeline()
                    pipe.incr(key)
                    pipe.expire(key, 5)
                    count = pipe.execute()[0]
                except Exception:  # a Redis hiccup must not stop delivery: limit locally
                    log.warning("rate limiter: Redis unavailable, limiting locally")
                    self._redis = None
                    continue
            else:
                with self._lock:
                    if window != self._window:
                        self._window, self._count = window, 0
                    self._count += 1
                    count = self._count
            if count <= limit:
                return
            time.sleep(max(0.001, window + 1 - now))


_limiter: RateLimiter | None = None


def rate_limiter() -> RateLimiter:
    global _limiter
    rate = settings.CX_DELIVERY_RATE_LIMIT
    if _limiter is None or _limiter.per_second != rate:
        _limiter = RateLimiter(rate)
    return _limiter


# --- the connection ----------------------------------------------------------------------


class LeaseEndingError(OSError):
    """No time is left before the fence for another SMTP exchange (a transient failure)."""


class Connection:
    """One connection of Django's default mailer for a batch, reopened if it breaks.

    With Django's SMTP backend the message goes out as the bytes ``Rendered.as_bytes()``
    builds, over the backend's own (configured, authenticated) smtplib connection: the
    same thing its ``send_messages`` does, minus the email package's slow generator.
    Any other backend (the demo mailbox, locmem in tests) gets the EmailMessage.

    ``fence`` (a ``time.monotonic()`` value) bounds every SMTP exchange: connecting and
    each command wait at most until then, and a send still running at the fence has its
    socket shut down (it then fails as a broken connection, a transient failure).
    """

    def __init__(self, *, fence: float | None = None) -> None:
        self.fence = fence
        self.backend = mailers.default
        self.raw = isinstance(self.backend, smtp_backend.EmailBackend)
        self._configured_timeout = getattr(self.backend, "timeout", None)
        self._busy = False
        self._watchdog: threading.Timer | None = None

    def _time_left(self) -> float | None:
        """Seconds an SMTP wait may take now (None: the configured timeout alone)."""
        if self.fence is None:
            return self._configured_timeout
        left = self.fence - time.monotonic()
        if left <= 0.05:
            raise LeaseEndingError("the claim's lease is running out: not sending")
        if self._configured_timeout is None:
            return left
        return min(left, self._configured_timeout)

    def open(self) -> None:
        if self.raw:
            self.backend.timeout = self._time_left()
        self.backend.open()

    def reopen(self) -> bool:
        """Drop the broken connection and open a new one; False if the server is down."""
        self.reset()
        try:
            self.open()
        except Exception:
            return False
        return True

    def reset(self) -> None:
        try:
            self.backend.close()
        except Exception:  # the connection is already broken; closing is best effort
            log.debug("closing a broken SMTP connection failed", exc_info=True)
        self.backend = mailers.default

    def send(self, rendered: email_render.Rendered) -> None:
        if self.raw:
            if self.backend.connection is None:
                self.open()
            smtp = self.backend.connection
            if self.fence is not None:
                if smtp.sock is not None:
                    smtp.sock.settimeout(self._time_left())
                self._arm_watchdog()
            sender = self._prepped(rendered.from_email)
            recipient = self._prepped(rendered.to)  # ValueError when invalid
            self._busy = True
            try:
                smtp.sendmail(sender, [recipient], rendered.as_bytes())
            finally:
                self._busy = False
            return
        if self.backend.send_messages([rendered.message()]) != 1:
            raise smtplib.SMTPException("the mail backend reported the message as not sent")

    def _arm_watchdog(self) -> None:
        """One timer per connection, at the fence: a command that a per-socket timeout did
        not bound (a server trickling its replies) is cut off there."""
        if self._watchdog is not None or self.fence is None:
            return
        self._watchdog = threading.Timer(
            max(0.0, self.fence - time.monotonic()), self._cut_off_if_busy
        )
        self._watchdog.daemon = True
        self._watchdog.start()

    def _cut_off_if_busy(self) -> None:
        smtp = self.backend.connection if self.raw else None
        if self._busy and smtp is not None and smtp.sock is not None:
            log.warning("an SMTP exchange reached its batch's fence: cutting it off")
            with contextlib.suppress(OSError):
                smtp.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        try:
            self.backend.close()
        except Exception:
            log.debug("closing the SMTP connection failed", exc_info=True)

    def _prepped(self, address: str) -> str:
        """The envelope address, as Django's backend would make it; a plain ASCII address
        (nearly all of them) skips its slow parser."""
        if _PLAIN_ADDRESS.fullmatch(address):
            return address
        return _prep_cached(self.backend, address)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+\-]*@[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]")
_prepped_cache: dict[str, str] = {}


def _prep_cached(backend: Any, address: str) -> str:
    # The sender ("Org <feedback@…>") is the same for a whole campaign: parse it once.
    if address not in _prepped_cache:
        if len(_prepped_cache) > 1000:
            _prepped_cache.clear()
        _prepped_cache[address] = backend.prep_address(address)
    return _prepped_cache[address]
