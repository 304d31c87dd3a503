"""The sending engine. Invitation rows are the outbox and the source of truth.

The broker only says "look now" (``invitations_kick``); Celery on Redis delivers at least
once and may drop a message in a crash, so the beat sweep (``delivery_sweep``) asks for a
pass whenever there is claimable work, and nothing depends on a message arriving.

A pass (``delivery_run``) loops:

1. **Claim** a batch: pending email invitations that are due (no retry waiting), not
   claimed by anyone (or whose claim expired), whose campaign is sending. On PostgreSQL
   ``SELECT … FOR UPDATE SKIP LOCKED`` then ``claimed_until = now + lease`` in one short
   transaction; on SQLite (the demo) a conditional UPDATE does the same job.
2. **Send** the batch over one SMTP connection, outside any transaction, and record each
   outcome right after its own send: sent (a conditional UPDATE that also clears the
   claim), a transient failure (attempts + 1, retry after exponential backoff, claim
   cleared) or a permanent one (failed, error kept). After ``CX_DELIVERY_MAX_ATTEMPTS``
   a transient failure becomes permanent, the error kept.

Guarantees: a worker killed mid-batch loses nothing (its claims expire and the sweep hands
the rows on) and, since each row is marked sent right after its send, at most the one
email in flight when it died goes out twice. A batch never outlives its lease: it stops
and releases the rest before the lease could expire under it.

Reminders go through the same claim-and-send machinery (``reminders_run``), with a
conditional UPDATE right before each send so a response that lands mid-batch stops the
reminder.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import smtplib
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends import smtp as smtp_backend
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cxplatform import queue
from cxplatform.services import SYSTEM, audit
from feedback.models import (
    Campaign,
    CampaignStatus,
    DeliveryEvent,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    Question,
)
from feedback.services import email as email_render

log = logging.getLogger(__name__)

REMINDABLE = [InvitationStatus.SENT, InvitationStatus.OPENED]


# --- kicking -----------------------------------------------------------------------------


def invitations_kick(*, passes: int | None = None) -> None:
    """Ask for delivery passes once the current transaction commits ("look now").

    Safe to call as often as you like: a pass with nothing to do ends at once. If the
    broker is down the kick is lost, harmlessly: the beat sweep finds the work anyway.
    ``passes`` (default ``CX_DELIVERY_PARALLEL``) lets several workers share a big send.
    """
    count = passes if passes is not None else settings.CX_DELIVERY_PARALLEL
    for _ in range(max(1, count)):
        queue.enqueue("feedback.tasks.delivery.delivery_pass")


def claimable_filter(now: datetime) -> Q:
    """Pending email invitations a worker may claim now."""
    return (
        Q(status=InvitationStatus.PENDING, channel=InvitationChannel.EMAIL)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        & (Q(campaign__isnull=True) | Q(campaign__status=CampaignStatus.SENDING))
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )


def work_waiting(*, now: datetime | None = None) -> bool:
    """Is there anything a delivery pass could claim now (expired claims, due retries,
    pending rows)?"""
    return Invitation.objects.filter(claimable_filter(now or timezone.now())).exists()


def delivery_sweep() -> bool:
    """The beat's safety net: enqueue passes if any invitation is claimable. Returns
    whether it did. This is what makes a lost broker message (or a FLUSHALL) harmless."""
    waiting = work_waiting()
    if waiting:
        invitations_kick()
    campaigns_complete()
    return waiting


# --- claiming ----------------------------------------------------------------------------


def _lease(now: datetime) -> datetime:
    # A few random microseconds make each claim's value unique, so it doubles as the
    # claim's token for the conditional-UPDATE claim on SQLite.
    return now + timedelta(
        seconds=settings.CX_DELIVERY_LEASE_SECONDS, microseconds=random.randrange(1, 1000)
    )


def _claim(base: Q, *, limit: int, now: datetime) -> tuple[list[int], datetime]:
    """Claim up to ``limit`` rows matching ``base``; returns their ids and the lease."""
    lease = _lease(now)
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(
                Invitation.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(base)
                .order_by()
                .values_list("pk", flat=True)[:limit]
            )
            if ids:
                Invitation.objects.filter(pk__in=ids).update(claimed_until=lease)
        return ids, lease
    # SQLite: no SKIP LOCKED. Pick candidates, then claim them with a conditional UPDATE
    # that re-checks the filter (writes are serialized), and read back what we won.
    candidates = list(
        Invitation.objects.filter(base).order_by().values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return [], lease
    Invitation.objects.filter(base, pk__in=candidates).update(claimed_until=lease)
    ids = list(
        Invitation.objects.filter(pk__in=candidates, claimed_until=lease).values_list(
            "pk", flat=True
        )
    )
    return ids, lease


def claim_batch(
    *, limit: int | None = None, now: datetime | None = None
) -> tuple[list[int], datetime]:
    """Claim a batch of invitations to deliver. Safe to run concurrently on many workers."""
    now = now or timezone.now()
    return _claim(claimable_filter(now), limit=limit or settings.CX_DELIVERY_BATCH_SIZE, now=now)


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


# --- sending -----------------------------------------------------------------------------


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    connection_down: bool = False
    errors: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        for name in ("claimed", "sent", "retry", "failed", "skipped", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.connection_down = self.connection_down or other.connection_down
        self.errors.extend(other.errors[:5])


def _stop_at(lease: datetime, deadline: float | None) -> float:
    """When a batch stops sending (``time.monotonic()``): well before its lease could
    expire under it, and by the caller's ``deadline`` if it has one."""
    stop_at = time.monotonic() + (lease - timezone.now()).total_seconds() * 0.8
    return stop_at if deadline is None else min(stop_at, deadline)


def _load(ids: Iterable[int], **still: Any) -> list[Invitation]:
    """The invitations (those still matching ``still``, e.g. our claim) with their
    contact; campaign, survey, organization and touchpoint are shared by a whole batch, so
    each is loaded once and attached to every row."""
    invitations = list(
        Invitation.objects.filter(pk__in=list(ids), **still)
        .select_related("contact")
        .order_by("pk")
    )

    def by_id(model: Any, field: str, *select: str) -> dict[int, Any]:
        wanted = {getattr(inv, f"{field}_id") for inv in invitations} - {None}
        rows = model.objects.filter(pk__in=wanted)
        if select:
            rows = rows.select_related(*select)
        return {row.pk: row for row in rows}

    from cxplatform.models import Organization
    from feedback.models import Survey
    from journeys.models import Touchpoint

    campaigns = by_id(Campaign, "campaign", "touchpoint")
    surveys = by_id(Survey, "survey")
    orgs = by_id(Organization, "organization")
    touchpoints = by_id(Touchpoint, "touchpoint")
    for inv in invitations:
        inv.organization = orgs[inv.organization_id]
        inv.survey = surveys[inv.survey_id]
        inv.campaign = campaigns.get(inv.campaign_id)
        inv.touchpoint = touchpoints.get(inv.touchpoint_id)
    return invitations


def _primary_questions(invitations: list[Invitation]) -> dict[int, Question | None]:
    survey_ids = {inv.survey_id for inv in invitations}
    found: dict[int, Question | None] = dict.fromkeys(survey_ids)
    for question in Question.objects.filter(
        survey_id__in=survey_ids, is_primary=True, archived_at__isnull=True
    ):
        found[question.survey_id] = question
    return found


def _suppressed_reason(invitation: Invitation) -> str:
    contact = invitation.contact
    if contact.unsubscribed_at is not None:
        return "unsubscribed"
    if contact.bounced_at is not None:
        return "bounced"
    return ""


def _record_failure(
    invitation: Invitation, failure: Failure, *, now: datetime, only_status: list[str]
) -> str:
    """Record a failed send of a claimed invitation; returns 'failed' or 'retry'."""
    attempts = invitation.attempts + 1
    rows = Invitation.objects.filter(pk=invitation.pk, status__in=only_status)
    if failure.permanent or attempts >= settings.CX_DELIVERY_MAX_ATTEMPTS:
        rows.update(
            status=InvitationStatus.FAILED,
            attempts=attempts,
            last_error=failure.error,
            claimed_until=None,
            next_attempt_at=None,
        )
        return "failed"
    rows.update(
        attempts=attempts,
        last_error=failure.error,
        claimed_until=None,
        next_attempt_at=now + backoff(attempts),
    )
    return "retry"


class _Connection:
    """One connection of Django's default mailer for a batch, reopened if it breaks.

    With Django's SMTP backend the message goes out as the bytes ``Rendered.as_bytes()``
    builds, over the backend's own (configured, authenticated) smtplib connection: the
    same thing its ``send_messages`` does, minus the email package's slow generator.
    Any other backend (the demo mailbox, locmem in tests) gets the EmailMessage.
    """

    def __init__(self) -> None:
        self.backend = mailers.default
        self.raw = isinstance(self.backend, smtp_backend.EmailBackend)

    def open(self) -> None:
        self.backend.open()

    def reset(self) -> None:
        try:
            self.backend.close()
        except Exception:  # the connection is already broken; closing is best effort
            log.debug("closing a broken SMTP connection failed", exc_info=True)
        self.backend = mailers.default

    def send(self, rendered: email_render.Rendered) -> None:
        if self.raw:
            if self.backend.connection is None:
                self.backend.open()
            sender = self._prepped(rendered.from_email)
            recipient = self._prepped(rendered.to)  # ValueError when invalid
            self.backend.connection.sendmail(sender, [recipient], rendered.as_bytes())
            return
        if self.backend.send_messages([rendered.message()]) != 1:
            raise smtplib.SMTPException("the mail backend reported the message as not sent")

    def close(self) -> None:
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


@contextlib.contextmanager
def _marks_without_flush_wait() -> Iterator[None]:
    """On PostgreSQL, commit this connection's delivery marks without waiting for the WAL
    flush (``synchronous_commit = off``) while a batch is sent.

    Each mark is still its own committed statement, visible to every worker at once, so
    a killed worker still re-sends at most its one email in flight. Only a crash of
    PostgreSQL itself could forget the last fraction of a second of marks, and the cost of
    that is re-sending those emails, never losing one. Waiting for the disk on every
    email would otherwise cap a worker at a few hundred emails per second.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def send_claimed(ids: list[int], lease: datetime, *, deadline: float | None = None) -> BatchResult:
    """Send the claimed invitations ``ids`` (see ``_send_claimed``)."""
    with _marks_without_flush_wait():
        return _send_claimed(ids, lease, deadline=deadline)


def _send_claimed(ids: list[int], lease: datetime, *, deadline: float | None) -> BatchResult:
    """Send the claimed invitations ``ids`` over one connection, recording each outcome.

    Stops early, releasing the rest of the claim, when the lease is about to run out (so
    no other worker can claim a row while we might still send it) or the SMTP server is
    down. Safe to call again with the same ids: only rows still pending under this claim
    are sent.
    """
    result = BatchResult(claimed=len(ids))
    if not ids:
        return result
    # Only rows still pending under this claim: a repeated call sends nothing twice.
    invitations = _load(ids, status=InvitationStatus.PENDING, claimed_until=lease)
    questions = _primary_questions(invitations)
    limiter = rate_limiter()
    stop_at = _stop_at(lease, deadline)
    conn = _Connection()
    remaining = list(invitations)
    try:
        while remaining:
            if time.monotonic() > stop_at:
                break
            invitation = remaining.pop(0)
            reason = _suppressed_reason(invitation)
            if reason:
                Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
                    status=InvitationStatus.SUPPRESSED,
                    suppression_reason=reason,
                    claimed_until=None,
                )
                result.skipped += 1
                continue
            try:
                rendered = email_render.render_invitation(invitation, questions=questions)
            except Exception as exc:  # a broken template must not stall the whole outbox
                log.exception("rendering invitation %s failed", invitation.pk)
                outcome = _record_failure(
                    invitation,
                    Failure(permanent=False, error=f"Rendering failed: {exc}"[:2000]),
                    now=timezone.now(),
                    only_status=[InvitationStatus.PENDING],
                )
                setattr(result, outcome, getattr(result, outcome) + 1)
                continue
            limiter.wait()
            try:
                conn.send(rendered)
            except Exception as exc:
                failure = classify(exc)
                result.errors.append(failure.error)
                outcome = _record_failure(
                    invitation,
                    failure,
                    now=timezone.now(),
                    only_status=[InvitationStatus.PENDING],
                )
                setattr(result, outcome, getattr(result, outcome) + 1)
                if failure.connection_broken:
                    conn.reset()
                    if not _reconnect(conn):
                        result.connection_down = True
                        _fail_all(remaining, failure, result)
                        remaining = []
                continue
            # Sent: record it at once, so a crash from here on cannot resend this one.
            _mark_sent(invitation.pk, rendered.headers["Message-ID"])
            result.sent += 1
    finally:
        conn.close()
        if remaining:
            released = Invitation.objects.filter(
                pk__in=[inv.pk for inv in remaining], claimed_until=lease
            ).update(claimed_until=None)
            result.released += released
    return result


_MARK_SENT_SQL = f"""
    UPDATE {Invitation._meta.db_table}
       SET status = %s, sent_at = %s, attempts = attempts + 1, message_id = %s,
           last_error = '', claimed_until = NULL, next_attempt_at = NULL
     WHERE id = %s AND status = %s
"""  # noqa: S608 - the table name is ours; every value is a parameter


def _mark_sent(pk: int, message_id: str) -> None:
    """Mark one invitation sent (if still pending) and release its claim. The hottest
    statement of a campaign, so written once in SQL instead of rebuilt by the ORM for
    every email; it is the same conditional UPDATE as
    ``filter(pk=pk, status=PENDING).update(status=SENT, …)``."""
    with connection.cursor() as cursor:
        cursor.execute(
            _MARK_SENT_SQL,
            [InvitationStatus.SENT, timezone.now(), message_id, pk, InvitationStatus.PENDING],
        )


def _reconnect(conn: _Connection) -> bool:
    try:
        conn.open()
    except Exception:
        return False
    return True


def _fail_all(invitations: list[Invitation], failure: Failure, result: BatchResult) -> None:
    """The server is unreachable: every row of the batch gets a (transient) attempt."""
    now = timezone.now()
    for invitation in invitations:
        outcome = _record_failure(
            invitation, failure, now=now, only_status=[InvitationStatus.PENDING]
        )
        setattr(result, outcome, getattr(result, outcome) + 1)


@dataclass
class RunResult(BatchResult):
    batches: int = 0
    more: bool = False


def delivery_run(*, max_seconds: float | None = None, max_batches: int | None = None) -> RunResult:
    """One delivery pass: claim and send batches until none is left, the server is down,
    or ``max_seconds`` passed (then ``more`` says whether to hand on to another pass).
    Several passes may run at once, on any number of workers."""
    started = time.monotonic()
    deadline = started + max_seconds if max_seconds else None
    total = RunResult()
    while True:
        if deadline is not None and time.monotonic() >= deadline:
            total.more = work_waiting()
            break
        if max_batches is not None and total.batches >= max_batches:
            total.more = work_waiting()
            break
        ids, lease = claim_batch()
        if not ids:
            break
        total.batches += 1
        total.add(send_claimed(ids, lease, deadline=deadline))
        if total.connection_down:
            # No point hammering a dead server: the sweep comes back after the backoff.
            break
    campaigns_complete()
    if total.sent or total.failed or total.retry:
        log.info(
            "delivery pass: %s sent, %s retry, %s failed, %s suppressed in %s batches (%.1fs)",
            total.sent,
            total.retry,
            total.failed,
            total.skipped,
            total.batches,
            time.monotonic() - started,
        )
    return total


def campaigns_complete() -> int:
    """Campaigns sending with nothing left to deliver become sent, each with an audit row
    saying how many emails went out and how many failed. Safe to repeat."""
    pending = Invitation.objects.filter(campaign=OuterRef("pk"), status=InvitationStatus.PENDING)
    done = Campaign.objects.filter(status=CampaignStatus.SENDING).exclude(Exists(pending))
    finished = 0
    for campaign in done.select_related("organization"):
        with transaction.atomic():
            if not done.filter(pk=campaign.pk).update(
                status=CampaignStatus.SENT, completed_at=timezone.now()
            ):
                continue  # another worker finished it, or an invitation came back
            invitations = Invitation.objects.filter(campaign=campaign)
            audit(
                org=campaign.organization,
                actor=SYSTEM,
                action="campaign.finished",
                obj=campaign,
                changes={
                    "status": [CampaignStatus.SENDING, CampaignStatus.SENT],
                    "sent": invitations.filter(sent_at__isnull=False).count(),
                    "failed": invitations.filter(status=InvitationStatus.FAILED).count(),
                },
            )
            finished += 1
    return finished


# --- reminders ---------------------------------------------------------------------------


def reminder_filter(campaign: Campaign, now: datetime) -> Q:
    """Invitations of ``campaign`` due a reminder now: delivered, not answered, not
    expired, fewer than ``max_reminders`` so far, last emailed ``reminder_after_days`` ago."""
    cutoff = now - timedelta(days=campaign.reminder_after_days)
    return (
        Q(
            campaign=campaign,
            status__in=REMINDABLE,
            responded_at__isnull=True,
            reminders_sent__lt=campaign.max_reminders,
            channel=InvitationChannel.EMAIL,
            contact__unsubscribed_at__isnull=True,
            contact__bounced_at__isnull=True,
        )
        & (Q(last_reminder_at__isnull=True, sent_at__lte=cutoff) | Q(last_reminder_at__lte=cutoff))
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def reminder_campaigns() -> list[Campaign]:
    return list(
        Campaign.objects.filter(
            status__in=[CampaignStatus.SENDING, CampaignStatus.SENT], max_reminders__gt=0
        ).order_by("pk")
    )


def reminders_run(*, max_seconds: float | None = None) -> BatchResult:
    """Send the reminders that are due, in claimed batches, each checked again right
    before its send. Safe to run concurrently and to repeat."""
    total = BatchResult()
    deadline = time.monotonic() + max_seconds if max_seconds else None
    for campaign in reminder_campaigns():
        seen: set[int] = set()
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                return total
            now = timezone.now()
            ids, lease = _claim(
                reminder_filter(campaign, now), limit=settings.CX_DELIVERY_BATCH_SIZE, now=now
            )
            if not ids or seen.issuperset(ids):
                # Nothing due, or only rows this run already handled (skipped): done here.
                if ids:
                    Invitation.objects.filter(pk__in=ids, claimed_until=lease).update(
                        claimed_until=None
                    )
                break
            seen.update(ids)
            batch = send_reminders(ids, lease, deadline=deadline)
            total.add(batch)
            if batch.connection_down:
                return total
    return total


def send_reminders(
    ids: list[int], lease: datetime, *, deadline: float | None = None
) -> BatchResult:
    """Send the claimed reminders ``ids`` (see ``_send_reminders``)."""
    with _marks_without_flush_wait():
        return _send_reminders(ids, lease, deadline=deadline)


def _send_reminders(ids: list[int], lease: datetime, *, deadline: float | None) -> BatchResult:
    """Send the claimed reminders ``ids``. Each is first counted by a conditional UPDATE
    that only matches a still-unanswered invitation of a reachable contact: a response
    (or an unsubscribe) that lands while the batch runs stops that reminder."""
    result = BatchResult(claimed=len(ids))
    invitations = _load(ids, claimed_until=lease)
    questions = _primary_questions(invitations)
    limiter = rate_limiter()
    stop_at = _stop_at(lease, deadline)
    conn = _Connection()
    remaining = list(invitations)
    try:
        while remaining:
            if time.monotonic() > stop_at:
                break
            invitation = remaining.pop(0)
            number = invitation.reminders_sent + 1
            now = timezone.now()
            # The last check before the send, as one atomic statement.
            counted = Invitation.objects.filter(
                pk=invitation.pk,
                status__in=REMINDABLE,
                responded_at__isnull=True,
                reminders_sent=invitation.reminders_sent,
                claimed_until=lease,
                contact__unsubscribed_at__isnull=True,
                contact__bounced_at__isnull=True,
            ).update(reminders_sent=number, last_reminder_at=now)
            if not counted:
                Invitation.objects.filter(pk=invitation.pk, claimed_until=lease).update(
                    claimed_until=None
                )
                result.skipped += 1
                continue
            try:
                rendered = email_render.render_invitation(
                    invitation, reminder=number, questions=questions
                )
                limiter.wait()
                conn.send(rendered)
            except Exception as exc:
                failure = classify(exc)
                result.errors.append(failure.error)
                rows = Invitation.objects.filter(pk=invitation.pk, reminders_sent=number)
                if failure.permanent:
                    # The address refuses mail: this reminder is given up, the error kept.
                    rows.update(claimed_until=None, last_error=failure.error)
                    result.failed += 1
                else:
                    # Not sent: undo the count so a later run tries again after a backoff.
                    rows.update(
                        reminders_sent=number - 1,
                        last_reminder_at=invitation.last_reminder_at,
                        claimed_until=None,
                        last_error=failure.error,
                        next_attempt_at=now + backoff(number),
                    )
                    result.retry += 1
                if failure.connection_broken:
                    conn.reset()
                    if not _reconnect(conn):
                        result.connection_down = True
                        break
                continue
            Invitation.objects.filter(pk=invitation.pk, claimed_until=lease).update(
                claimed_until=None, next_attempt_at=None
            )
            DeliveryEvent.objects.create(
                organization_id=invitation.organization_id,
                invitation_id=invitation.pk,
                contact_id=invitation.contact_id,
                kind=DeliveryEvent.Kind.REMINDER,
                detail=f"Reminder {number}",
            )
            result.sent += 1
    finally:
        conn.close()
        if remaining:
            result.released += Invitation.objects.filter(
                pk__in=[inv.pk for inv in remaining], claimed_until=lease
            ).update(claimed_until=None)
    return result


# --- after the email left: opens, unsubscribes, bounces, complaints ----------------------


def invitation_by_token(token: str) -> Invitation | None:
    if not token or len(token) > 64:
        return None
    return (
        Invitation.objects.select_related("contact", "organization", "survey")
        .filter(token=token)
        .first()
    )


def invitation_opened(*, token: str, now: datetime | None = None) -> bool:
    """The open pixel was fetched: set ``opened_at`` once (sent → opened). Only the first
    open changes anything, so a repeated or scanned pixel is harmless."""
    now = now or timezone.now()
    invitation = Invitation.objects.filter(token=token).only("pk", "organization_id").first()
    if invitation is None:
        return False
    first = Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
        opened_at=now
    )
    Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.SENT).update(
        status=InvitationStatus.OPENED
    )
    if first:
        DeliveryEvent.objects.create(
            organization_id=invitation.organization_id,
            invitation_id=invitation.pk,
            kind=DeliveryEvent.Kind.OPEN,
        )
    return bool(first)


def _suppress_pending(contact_id: int, reason: str) -> int:
    """Nothing more goes to this contact: their queued invitations, in every campaign."""
    return Invitation.objects.filter(contact_id=contact_id, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.SUPPRESSED, suppression_reason=reason, claimed_until=None
    )


@transaction.atomic
def contact_unsubscribe(
    *, invitation: Invitation, source: str = "link", now: datetime | None = None
) -> bool:
    """Unsubscribe the invitation's contact from every survey email, at once: the contact
    is marked, their queued invitations are suppressed, and every send and reminder checks
    the contact right before it goes. Returns False if they already were unsubscribed."""
    now = now or timezone.now()
    from feedback.models import Contact

    changed = Contact.objects.filter(pk=invitation.contact_id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now, suppression_reason=f"unsubscribed ({source})"
    )
    _suppress_pending(invitation.contact_id, "unsubscribed")
    if changed:
        DeliveryEvent.objects.create(
            organization_id=invitation.organization_id,
            invitation_id=invitation.pk,
            contact_id=invitation.contact_id,
            kind=DeliveryEvent.Kind.UNSUBSCRIBE,
            detail=source,
        )
    return bool(changed)


@transaction.atomic
def delivery_report(
    *,
    org: Any,
    kind: str,
    invitation: Invitation | None = None,
    email: str = "",
    detail: str = "",
    permanent: bool = True,
    now: datetime | None = None,
) -> DeliveryEvent:
    """Record a bounce or a complaint reported by the mail provider (or an integration).

    A permanent (hard) bounce marks the contact bounced and the invitation bounced; a
    complaint ("this is spam") unsubscribes the contact. Either way their queued
    invitations are suppressed at once. A soft bounce is only recorded. Repeating a report
    adds an event and changes nothing else.
    """
    from feedback.models import Contact

    now = now or timezone.now()
    contact = None
    if invitation is not None:
        contact = invitation.contact
    elif email:
        contact = Contact.objects.for_org(org).filter(email__iexact=email.strip()).first()
    if contact is None:
        raise ValueError("No invitation or contact of this organization matches the report.")
    if kind == DeliveryEvent.Kind.BOUNCE and permanent:
        Contact.objects.filter(pk=contact.pk, bounced_at__isnull=True).update(
            bounced_at=now, suppression_reason=f"bounced: {detail}"[:200]
        )
        if invitation is not None:
            Invitation.objects.filter(
                pk=invitation.pk, status__in=[InvitationStatus.SENT, InvitationStatus.OPENED]
            ).update(status=InvitationStatus.BOUNCED, last_error=detail[:2000])
        _suppress_pending(contact.pk, "bounced")
    elif kind == DeliveryEvent.Kind.COMPLAINT:
        Contact.objects.filter(pk=contact.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, suppression_reason=f"complaint: {detail}"[:200]
        )
        _suppress_pending(contact.pk, "unsubscribed")
    return DeliveryEvent.objects.create(
        organization=org,
        invitation=invitation,
        contact=contact,
        kind=kind,
        detail=(detail if permanent or kind != DeliveryEvent.Kind.BOUNCE else f"soft: {detail}")[
            :2000
        ],
        created_at=now,
    )
