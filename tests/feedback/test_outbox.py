"""The outbox, in-process: claims, outcomes (sent, transient, permanent), retries
with backoff, giving up with the error kept, the sweep, suppression at send time.
SMTP failures are simulated at the connection (the system boundary); the integration
tests use a real server."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from feedback.models import (
    CampaignStatus,
    Contact,
    Invitation,
    InvitationStatus,
)
from feedback.services import outbox, transport
from tests.feedback.factories import CampaignFactory, InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(org):
    return CampaignFactory(organization=org, status=CampaignStatus.SENDING)


def _queued(campaign, n=1, **fields):
    return [
        InvitationFactory(
            organization=campaign.organization, campaign=campaign, survey=campaign.survey, **fields
        )
        for _ in range(n)
    ]


@pytest.fixture
def smtp_fails(monkeypatch):
    """``smtp_fails(exc, emails=None)``: sending to ``emails`` (all if None) raises ``exc``."""

    def install(exc: Exception, emails: set[str] | None = None) -> None:
        real = transport.Connection.send

        def send(self, rendered):
            if emails is None or rendered.to in emails:
                raise exc
            return real(self, rendered)

        monkeypatch.setattr(transport.Connection, "send", send)

    return install


def test_a_pass_sends_every_queued_invitation_once_and_marks_it_sent(campaign, mailoutbox):
    invitations = _queued(campaign, 5)
    result = outbox.delivery_run()
    again = outbox.delivery_run()
    assert (result.sent, again.sent) == (5, 0)
    assert len(mailoutbox) == 5
    for invitation in invitations:
        invitation.refresh_from_db()
        assert invitation.status == InvitationStatus.SENT
        assert invitation.sent_at is not None
        assert invitation.claimed_until is None
        assert invitation.attempts == 1
        assert (
            invitation.message_id
            == f"<invitation-{invitation.pk}.{invitation.token[:8]}@testserver>"
        )
    assert campaign.__class__.objects.get(pk=campaign.pk).status == CampaignStatus.SENT


def test_a_claimed_invitation_is_not_claimed_again_until_its_lease_expires(campaign):
    (invitation,) = _queued(campaign)
    ids, lease = outbox.claim_batch()
    assert ids == [invitation.pk]
    assert outbox.claim_batch()[0] == []
    with time_machine.travel(lease + timedelta(seconds=1)):
        assert outbox.claim_batch()[0] == [invitation.pk]  # the worker died: handed on


def test_a_transient_failure_is_retried_later_with_exponential_backoff(
    campaign, mailoutbox, smtp_fails
):
    (invitation,) = _queued(campaign)
    smtp_fails(smtplib.SMTPRecipientsRefused({"x": (451, b"try again later")}))
    outbox.delivery_run()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.attempts == 1
    assert "451" in invitation.last_error
    assert invitation.claimed_until is None
    first_wait = invitation.next_attempt_at - timezone.now()
    assert timedelta(seconds=40) < first_wait < timedelta(seconds=80)
    assert outbox.claim_batch()[0] == []  # not before its time
    with time_machine.travel(invitation.next_attempt_at + timedelta(seconds=1)):
        outbox.delivery_run()
        invitation.refresh_from_db()
        assert invitation.attempts == 2
        second_wait = invitation.next_attempt_at - timezone.now()
    assert second_wait > first_wait * 1.3


def test_a_permanent_refusal_fails_at_once_with_the_error_kept(campaign, mailoutbox, smtp_fails):
    bad, good = _queued(campaign, 2)
    smtp_fails(
        smtplib.SMTPRecipientsRefused({bad.contact.email: (550, b"No such user")}),
        emails={bad.contact.email},
    )
    result = outbox.delivery_run()
    bad.refresh_from_db()
    assert (bad.status, bad.attempts) == (InvitationStatus.FAILED, 1)
    assert "550" in bad.last_error
    assert result.sent == 1
    assert [m.to[0] for m in mailoutbox] == [good.contact.email]


@override_settings(CX_DELIVERY_MAX_ATTEMPTS=3)
def test_after_the_last_attempt_a_transient_failure_gives_up_with_the_error(campaign, smtp_fails):
    (invitation,) = _queued(campaign)
    smtp_fails(smtplib.SMTPDataError(452, b"mailbox full"))
    start = timezone.now()
    for day in range(1, 4):
        with time_machine.travel(start + timedelta(days=day)):
            outbox.delivery_run()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.FAILED
    assert invitation.attempts == 3
    assert "mailbox full" in invitation.last_error


def test_a_server_that_refuses_connections_costs_the_batch_one_attempt_and_ends_the_pass(
    campaign, smtp_fails, monkeypatch
):
    _queued(campaign, 3)
    refused = ConnectionRefusedError(111, "Connection refused")
    smtp_fails(refused)

    def cannot_open(self):
        raise refused

    monkeypatch.setattr(transport.Connection, "open", cannot_open)
    result = outbox.delivery_run()
    assert result.connection_down
    rows = Invitation.objects.filter(campaign=campaign)
    assert {(r.status, r.attempts) for r in rows} == {(InvitationStatus.PENDING, 1)}
    assert all("Connection refused" in r.last_error for r in rows)


def test_an_invalid_address_fails_without_retrying(campaign, monkeypatch):
    (invitation,) = _queued(campaign)
    Contact.objects.filter(pk=invitation.contact_id).update(email="bad address@@example.com")

    def send(self, rendered):
        raise ValueError("Invalid address")

    monkeypatch.setattr(transport.Connection, "send", send)
    outbox.delivery_run()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.FAILED
    assert "Invalid address" in invitation.last_error


def test_a_contact_who_unsubscribed_after_the_launch_gets_nothing(campaign, mailoutbox):
    (invitation,) = _queued(campaign)
    Contact.objects.filter(pk=invitation.contact_id).update(unsubscribed_at=timezone.now())
    outbox.delivery_run()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.suppression_reason) == ("suppressed", "unsubscribed")
    assert mailoutbox == []


def test_a_paused_campaigns_invitations_are_not_claimed(campaign):
    _queued(campaign, 2)
    campaign.status = CampaignStatus.PAUSED
    campaign.save()
    assert outbox.claim_batch()[0] == []
    assert not outbox.work_waiting()


def test_api_triggered_invitations_without_a_campaign_are_delivered(org, mailoutbox):
    invitation = InvitationFactory(organization=org)
    link_only = InvitationFactory(organization=org, channel="link")
    outbox.delivery_run()
    assert [m.to[0] for m in mailoutbox] == [invitation.contact.email]
    link_only.refresh_from_db()
    assert link_only.status == InvitationStatus.PENDING  # the integration delivers that one


def test_an_expired_invitation_is_not_sent(campaign, mailoutbox):
    _queued(campaign, expires_at=timezone.now() - timedelta(minutes=1))
    outbox.delivery_run()
    assert mailoutbox == []


def test_the_sweep_asks_for_a_pass_only_when_there_is_work(campaign, monkeypatch):
    kicks = []
    monkeypatch.setattr(outbox, "invitations_kick", lambda **kw: kicks.append(kw))
    _queued(campaign)
    ids, lease = outbox.claim_batch()  # a worker claims the invitation…
    assert len(ids) == 1
    assert outbox.delivery_sweep() is False  # …and holds the lease: nothing to do
    with time_machine.travel(lease + timedelta(seconds=1)):  # …then dies
        assert outbox.delivery_sweep() is True
    assert len(kicks) == 1


def test_the_sweep_completes_a_campaign_with_nothing_left_to_send(campaign):
    _queued(campaign, status=InvitationStatus.SENT)
    outbox.delivery_sweep()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert campaign.completed_at is not None


def test_a_batch_stops_and_releases_the_rest_before_its_lease_could_expire(
    campaign, mailoutbox, settings
):
    _queued(campaign, 3)
    settings.CX_DELIVERY_LEASE_SECONDS = 0.001  # a lease that is over before the first send
    ids, lease = outbox.claim_batch()
    result = outbox.send_claimed(ids, lease)
    assert (result.sent, result.released) == (0, 3)
    assert mailoutbox == []
    assert not Invitation.objects.filter(claimed_until__isnull=False).exists()


def test_sending_a_claimed_batch_twice_sends_each_email_once(campaign, mailoutbox):
    _queued(campaign, 2)
    ids, lease = outbox.claim_batch()
    outbox.send_claimed(ids, lease)
    outbox.send_claimed(ids, lease)  # again, as a duplicated message would
    assert len(mailoutbox) == 2
    assert Invitation.objects.filter(status=InvitationStatus.SENT).count() == 2


class _WorkerDied(BaseException):
    """What the loop sees of a SIGKILL: nothing after this point runs."""


def test_a_worker_dying_during_a_send_leaves_the_row_pending_under_its_claim(campaign, monkeypatch):
    (invitation,) = _queued(campaign)

    def dies(self, rendered):
        raise _WorkerDied

    monkeypatch.setattr(transport.Connection, "send", dies)
    ids, lease = outbox.claim_batch()
    with pytest.raises(_WorkerDied):
        outbox.send_claimed(ids, lease)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING  # not marked before its send
    with time_machine.travel(lease + timedelta(seconds=1)):
        assert outbox.claim_batch()[0] == [invitation.pk]  # handed on once the lease ends


def test_a_worker_dying_during_a_reminder_leaves_it_uncounted(org, monkeypatch):
    campaign = CampaignFactory(
        organization=org, status=CampaignStatus.SENT, reminder_after_days=1, max_reminders=1
    )
    invitation = InvitationFactory(
        organization=org,
        campaign=campaign,
        survey=campaign.survey,
        status=InvitationStatus.SENT,
        sent_at=timezone.now() - timedelta(days=2),
    )

    def dies(self, rendered):
        raise _WorkerDied

    monkeypatch.setattr(transport.Connection, "send", dies)
    with pytest.raises(_WorkerDied):
        outbox.reminders_run()
    invitation.refresh_from_db()
    assert invitation.reminders_sent == 0  # counted only once it has gone
    with time_machine.travel(invitation.claimed_until + timedelta(seconds=1)):
        assert outbox.reminders_due(campaign, timezone.now()).get() == invitation
