"""The outbox: invitation rows are the source of truth for what to send, and one send loop
delivers both first emails and reminders.

The broker only says "look now" (``invitations_kick``); Celery on Redis delivers at least
once and may drop a message in a crash, so the beat sweep (``delivery_sweep``) asks for a
pass whenever there is claimable work, and nothing depends on a message arriving.

A pass (``delivery_run``, and ``reminders_run`` for the reminders that are due) loops:

1. **Claim** a batch (``Invitation.objects.claimable``, or ``reminders_due``). On
   PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` then ``claimed_until = now + lease`` in
   one short transaction; on SQLite (the demo) a conditional UPDATE does the same job.
2. **Send** the batch (``_send_batch``) over one SMTP connection, outside any transaction,
   and record each outcome right *after* its own send: sent (a conditional UPDATE that
   also clears the claim; for a reminder, the count), a transient failure (retry after
   exponential backoff, claim cleared) or a permanent one (failed, error kept). After
   ``CX_DELIVERY_MAX_ATTEMPTS`` a transient failure of a first email becomes permanent.

Guarantees:
- A worker killed mid-batch loses nothing: its claims expire and the sweep hands the rows
  on. Since each row is recorded right after its send, and never before, at most the one
  email (or reminder) in flight when it died goes out twice.
- Nothing is sent under an expired claim: a batch stops starting sends at 80 % of its
  lease, and every SMTP exchange is cut off by 90 % (``transport.Connection``'s fence), so
  a hung server cannot keep a worker sending a row the sweep has handed on.
- A reminder is checked right before its send (still unanswered, contact reachable, still
  ours): an answer that lands mid-batch stops the reminders not yet sent.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
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
from feedback.services import transport

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


def work_waiting(*, now: datetime | None = None) -> bool:
    """Is there anything a delivery pass could claim now (expired claims, due retries,
    pending rows)?"""
    return Invitation.objects.claimable(now or timezone.now()).exists()


def delivery_sweep() -> bool:
    """The beat's safety net: enqueue passes if any invitation is claimable. Returns
    whether it did. This is what makes a lost broker message (or a FLUSHALL) harmless."""
    waiting = work_waiting()
    if waiting:
        invitations_kick()
    campaigns_complete()
    return waiting


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


# --- claiming ----------------------------------------------------------------------------


def _lease(now: datetime) -> datetime:
    # A few random microseconds make each claim's value unique, so it doubles as the
    # claim's token for the conditional-UPDATE claim on SQLite.
    return now + timedelta(
        seconds=settings.CX_DELIVERY_LEASE_SECONDS, microseconds=random.randrange(1, 1000)
    )


def _claim(rows: QuerySet[Invitation], *, limit: int, now: datetime) -> tuple[list[int], datetime]:
    """Claim up to ``limit`` of ``rows``; returns their ids and the lease."""
    lease = _lease(now)
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(
                rows.select_for_update(skip_locked=True, of=("self",))
                .order_by()
                .values_list("pk", flat=True)[:limit]
            )
            if ids:
                Invitation.objects.filter(pk__in=ids).update(claimed_until=lease)
        return ids, lease
    # SQLite: no SKIP LOCKED. Pick candidates, then claim them with a conditional UPDATE
    # that re-checks the filter (writes are serialized), and read back what we won.
    candidates = list(rows.order_by().values_list("pk", flat=True)[:limit])
    if not candidates:
        return [], lease
    rows.filter(pk__in=candidates).update(claimed_until=lease)
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
    return _claim(
        Invitation.objects.claimable(now),
        limit=limit or settings.CX_DELIVERY_BATCH_SIZE,
        now=now,
    )


def reminders_due(campaign: Campaign, now: datetime) -> QuerySet[Invitation]:
    """Invitations of ``campaign`` due a reminder now: delivered, not answered, not
    expired, fewer than ``max_reminders`` so far, last emailed ``reminder_after_days`` ago,
    not claimed by a worker nor waiting for a retry."""
    cutoff = now - timedelta(days=campaign.reminder_after_days)
    return (
        Invitation.objects.filter(
            campaign=campaign,
            status__in=REMINDABLE,
            responded_at__isnull=True,
            reminders_sent__lt=campaign.max_reminders,
            channel=InvitationChannel.EMAIL,
            contact__unsubscribed_at__isnull=True,
            contact__bounced_at__isnull=True,
        )
        .filter(
            Q(last_reminder_at__isnull=True, sent_at__lte=cutoff) | Q(last_reminder_at__lte=cutoff)
        )
        .unexpired(now)
        .unclaimed(now)
    )


# --- results -----------------------------------------------------------------------------


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

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class RunResult(BatchResult):
    batches: int = 0
    more: bool = False


# --- loading a batch ---------------------------------------------------------------------


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


# --- what differs between a first email and a reminder -----------------------------------


class _FirstEmail:
    """A pending invitation's first email. Its record is the row's status."""

    def load(self, ids: list[int], lease: datetime) -> list[Invitation]:
        # Only rows still pending under this claim: a repeated call sends nothing twice.
        return _load(ids, status=InvitationStatus.PENDING, claimed_until=lease)

    def still_due(self, invitation: Invitation, lease: datetime) -> bool:
        """The contact as loaded with the batch: an unsubscribe since then has already
        suppressed the pending row, so the mark (which needs ``pending``) will not match."""
        contact = invitation.contact
        reason = (
            "unsubscribed"
            if contact.unsubscribed_at is not None
            else "bounced"
            if contact.bounced_at is not None
            else ""
        )
        if not reason:
            return True
        Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.SUPPRESSED, suppression_reason=reason, claimed_until=None
        )
        return False

    def render(self, invitation: Invitation, questions: dict) -> email_render.Rendered:
        return email_render.render_invitation(invitation, questions=questions)

    def mark_sent(self, invitation: Invitation, rendered: email_render.Rendered) -> None:
        _mark_sent(invitation.pk, rendered.headers["Message-ID"])

    def record_failure(
        self, invitation: Invitation, failure: transport.Failure, now: datetime
    ) -> str:
        """Returns 'failed' or 'retry'."""
        attempts = invitation.attempts + 1
        rows = Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING)
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
            next_attempt_at=now + transport.backoff(attempts),
        )
        return "retry"


class _Reminder:
    """Reminder number ``reminders_sent + 1`` of a delivered invitation. Its record is the
    count, written only once the reminder has gone: a worker killed before that leaves the
    count as it was, and the reminder is sent again once its claim expires."""

    def load(self, ids: list[int], lease: datetime) -> list[Invitation]:
        return _load(ids, claimed_until=lease)

    def _unchanged(self, invitation: Invitation) -> QuerySet[Invitation]:
        return Invitation.objects.filter(pk=invitation.pk, reminders_sent=invitation.reminders_sent)

    def still_due(self, invitation: Invitation, lease: datetime) -> bool:
        """The last check before the send: still unanswered, the contact still reachable,
        still under our claim. A response (or an unsubscribe) that landed since the claim
        stops this reminder."""
        due = (
            self._unchanged(invitation)
            .filter(
                status__in=REMINDABLE,
                responded_at__isnull=True,
                claimed_until=lease,
                contact__unsubscribed_at__isnull=True,
                contact__bounced_at__isnull=True,
            )
            .exists()
        )
        if not due:
            Invitation.objects.filter(pk=invitation.pk, claimed_until=lease).update(
                claimed_until=None
            )
        return due

    def render(self, invitation: Invitation, questions: dict) -> email_render.Rendered:
        return email_render.render_invitation(
            invitation, reminder=invitation.reminders_sent + 1, questions=questions
        )

    @transaction.atomic
    def mark_sent(self, invitation: Invitation, rendered: email_render.Rendered) -> None:
        number = invitation.reminders_sent + 1
        counted = self._unchanged(invitation).update(
            reminders_sent=number,
            last_reminder_at=timezone.now(),
            claimed_until=None,
            next_attempt_at=None,
        )
        if counted:
            DeliveryEvent.objects.create(
                organization_id=invitation.organization_id,
                invitation_id=invitation.pk,
                contact_id=invitation.contact_id,
                kind=DeliveryEvent.Kind.REMINDER,
                detail=f"Reminder {number}",
            )

    def record_failure(
        self, invitation: Invitation, failure: transport.Failure, now: datetime
    ) -> str:
        number = invitation.reminders_sent + 1
        rows = self._unchanged(invitation)
        if failure.permanent:
            # The address refuses mail: this reminder is given up (counted), the error kept.
            rows.update(
                reminders_sent=number,
                last_reminder_at=now,
                claimed_until=None,
                last_error=failure.error,
            )
            return "failed"
        rows.update(
            claimed_until=None,
            last_error=failure.error,
            next_attempt_at=now + transport.backoff(number),
        )
        return "retry"


FIRST_EMAIL = _FirstEmail()
REMINDER = _Reminder()


# --- the send loop -----------------------------------------------------------------------


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


def _stop_at(lease: datetime, deadline: float | None) -> tuple[float, float]:
    """When a batch stops starting sends, and its fence (both ``time.monotonic()``): no
    send starts after 80 % of the lease (or the caller's ``deadline``), and no SMTP
    exchange runs past 90 %, so none can outlive the claim."""
    now = time.monotonic()
    left = (lease - timezone.now()).total_seconds()
    stop_at = now + left * 0.8
    return (stop_at if deadline is None else min(stop_at, deadline)), now + left * 0.9


def send_claimed(ids: list[int], lease: datetime, *, deadline: float | None = None) -> BatchResult:
    """Send the first emails of the claimed invitations ``ids``. Safe to call again with
    the same ids: only rows still pending under this claim are sent."""
    return _send_batch(FIRST_EMAIL, ids, lease, deadline=deadline)


def send_reminders(
    ids: list[int], lease: datetime, *, deadline: float | None = None
) -> BatchResult:
    """Send the claimed reminders ``ids``, each checked right before its send."""
    return _send_batch(REMINDER, ids, lease, deadline=deadline)


def _send_batch(
    kind: _FirstEmail | _Reminder, ids: list[int], lease: datetime, *, deadline: float | None
) -> BatchResult:
    """The one send loop: send the claimed ``ids`` over one connection, recording each
    outcome right after its send.

    Stops early, releasing the rest of the claim, when the lease is about to run out (so
    no other worker can claim a row while we might still send it) or the SMTP server is
    down.
    """
    result = BatchResult(claimed=len(ids))
    if not ids:
        return result
    with _marks_without_flush_wait():
        invitations = kind.load(ids, lease)
        questions = _primary_questions(invitations)
        limiter = transport.rate_limiter()
        stop_at, fence = _stop_at(lease, deadline)
        conn = transport.Connection(fence=fence)
        remaining = list(invitations)
        try:
            while remaining and time.monotonic() <= stop_at:
                invitation = remaining.pop(0)
                if not kind.still_due(invitation, lease):
                    result.skipped += 1
                    continue
                try:
                    rendered = kind.render(invitation, questions)
                except Exception as exc:  # a broken template must not stall the whole outbox
                    log.exception("rendering invitation %s failed", invitation.pk)
                    failure = transport.Failure(
                        permanent=False, error=f"Rendering failed: {exc}"[:2000]
                    )
                    result.count(kind.record_failure(invitation, failure, timezone.now()))
                    continue
                limiter.wait()
                if time.monotonic() > stop_at:
                    remaining.insert(0, invitation)
                    break
                try:
                    conn.send(rendered)
                except Exception as exc:
                    failure = transport.classify(exc)
                    result.errors.append(failure.error)
                    result.count(kind.record_failure(invitation, failure, timezone.now()))
                    if failure.connection_broken and not conn.reopen():
                        if time.monotonic() > stop_at:
                            break  # out of time rather than a dead server: release the rest
                        result.connection_down = True
                        now = timezone.now()
                        for rest in remaining:
                            result.count(kind.record_failure(rest, failure, now))
                        remaining = []
                    continue
                # Sent: record it at once, so a crash from here on cannot resend this one.
                kind.mark_sent(invitation, rendered)
                result.sent += 1
        finally:
            conn.close()
            if remaining:
                result.released += Invitation.objects.filter(
                    pk__in=[inv.pk for inv in remaining], claimed_until=lease
                ).update(claimed_until=None)
    return result


# --- passes ------------------------------------------------------------------------------


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
                reminders_due(campaign, now), limit=settings.CX_DELIVERY_BATCH_SIZE, now=now
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
