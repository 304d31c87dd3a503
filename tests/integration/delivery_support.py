"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the delivery
integration tests: messages parsed with the email package, with the time each arrived."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from_at: float  # when the client began this message (MAIL FROM)
    at: float  # when its DATA was accepted
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"]).split("<")[-1].rstrip(">").strip().lower()

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, subtype: str) -> str:
        found = self.message.get_body(preferencelist=(subtype,))
        return found.get_content() if found is not None else ""

    def links(self) -> list[str]:
        return re.findall(r'href="([^"]+)"', self.part("html"))


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        session.cx_mail_from_at = time.time()
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        sink = self.sink
        address = address.lower()
        with sink.lock:
            replies = sink.rcpt_replies.get(address)
            reply = replies.pop(0) if replies else None
            hang = sink.rcpt_hang.pop(address, 0.0)
        if hang:
            await asyncio.sleep(hang)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        sink = self.sink
        if sink.delay:
            await asyncio.sleep(sink.delay)
        with sink.lock:
            sink.data_seen += 1
            number = sink.data_seen
        if number == sink.hold_at:
            # Hold this message: never answer it while the test does what it wants (kill
            # the client); then refuse it, so it counts as never delivered.
            sink.holding.set()
            while not sink.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Held message discarded"
        if number in sink.data_replies:
            return sink.data_replies[number]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        received = Received(getattr(session, "cx_mail_from_at", time.time()), time.time(), message)
        if sink.on_message is not None:
            # Runs before the client gets its 250: the client is blocked meanwhile, so what
            # the hook does happens exactly between this message and the next one.
            await asyncio.get_running_loop().run_in_executor(None, sink.on_message, received)
        with sink.lock:
            sink.received.append(received)
        return "250 Message accepted for delivery"


class SmtpSink:
    """``SmtpSink(port).start()``; ``.received`` holds the messages; ``.stop()``.

    Misbehaviour on demand, to test the client against a real SMTP conversation:
    - ``delay``: seconds before answering each DATA;
    - ``rcpt_replies``: {address: [reply, …]} answers to that address's next RCPTs
      (e.g. ``"450 4.2.1 Try later"``), then 250;
    - ``rcpt_hang``: {address: seconds} the first RCPT of that address waits that long;
    - ``data_replies``: {n: reply} the n-th DATA (from 1, across connections) gets that
      reply instead of 250 (e.g. ``"421 4.3.2 Closing"``) and is not kept;
    - ``hold_at``: the n-th DATA is held unanswered (``holding`` is set) until ``release``
      is set, then refused (not kept);
    - ``on_message(received)``: called in a thread before a message's 250 goes back.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        delay: float = 0.0,
        rcpt_replies: dict[str, list[str]] | None = None,
        rcpt_hang: dict[str, float] | None = None,
        data_replies: dict[int, str] | None = None,
        hold_at: int | None = None,
        on_message: Callable[[Received], None] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.delay = delay
        self.rcpt_replies = {k.lower(): list(v) for k, v in (rcpt_replies or {}).items()}
        self.rcpt_hang = {k.lower(): v for k, v in (rcpt_hang or {}).items()}
        self.data_replies = dict(data_replies or {})
        self.hold_at = hold_at
        self.on_message = on_message
        self.holding = threading.Event()
        self.release = threading.Event()
        self.data_seen = 0
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def start(self) -> SmtpSink:
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    def count(self) -> int:
        with self.lock:
            return len(self.received)


# --- campaigns for the delivery tests ----------------------------------------------------

SITE_URL = "http://testserver"  # the test settings' SITE_URL: the worker builds links with it


def worker_env(sink_url: str, **extra: str) -> dict[str, str]:
    """A worker that sends to ``sink_url`` with short leases and backoffs, for speed."""
    return {
        "EMAIL_URL": sink_url,
        "SITE_URL": SITE_URL,
        "EMAIL_TIMEOUT": "5",
        "CX_DELIVERY_BATCH_SIZE": "20",
        "CX_DELIVERY_LEASE_SECONDS": "4",
        "CX_DELIVERY_BACKOFF_SECONDS": "0.5",
        "CX_DELIVERY_BACKOFF_MAX_SECONDS": "2",
        "CX_DELIVERY_MAX_ATTEMPTS": "50",
        "CX_DELIVERY_PASS_SECONDS": "30",
        **extra,
    }


def make_campaign(org, *, eligible: int, **campaign_fields):
    """A campaign of ``org`` over ``eligible`` fresh contacts (plus any made by the caller)."""
    from feedback.models import Contact
    from tests.feedback.factories import CampaignFactory

    Contact.objects.bulk_create(
        [
            Contact(organization=org, email=f"person{i}@example.com", name=f"Person {i}")
            for i in range(eligible)
        ]
    )
    return CampaignFactory(organization=org, name="Delivery test", **campaign_fields)


class Beat:
    """Stands in for celery beat: sends the sweep task every ``every`` seconds, on a
    thread, until stopped (the tests poll the database meanwhile)."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.errors: list[str] = []

    def _run(self) -> None:
        from feedback.tasks import delivery as delivery_tasks

        while not self._stop.wait(self.every):
            try:
                delivery_tasks.delivery_sweep.delay()
            except Exception as exc:  # the broker may be down for a moment: beat retries
                self.errors.append(repr(exc))

    def __enter__(self) -> Beat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def wait_until(predicate, *, timeout: float, what: str, workers=()) -> object:
    """``wait_for`` that shows the workers' logs (read at failure time) when it times out."""
    from tests.integration.conftest import wait_for

    try:
        return wait_for(predicate, timeout=timeout, what=what)
    except AssertionError as exc:
        logs = "\n".join(f"--- worker log:\n{w.output()}" for w in workers)
        raise AssertionError(f"{exc}\n{logs}") from None
