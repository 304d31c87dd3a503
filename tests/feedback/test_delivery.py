"""The sending engine, in-process: claims, outcomes (sent, transient, permanent), retries
with backoff, giving up with the error kept, the sweep, suppression at send time, the
rate limit and bounce / complaint reports. SMTP failures are simulated at the connection
(the system boundary); the integration tests use a real server."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from feedback.models import (
    CampaignStatus,
    Contact,
    DeliveryEvent,
    Invitation,
    InvitationStatus,
)
from feedback.services import delivery
from tests.feedback.factories import CampaignFactory, ContactFactory, InvitationFactory

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
        real = delivery._Connection.send

        def send(self, rendered):
            if emails is None or rendered.to in emails:
                raise exc
            return real(self, rendered)

        monkeypatch.setattr(delivery._Connection, "send", send)

    return install


def test_a_pass_sends_every_queued_invitation_once_and_marks_it_sent(campaign, mailoutbox):
    invitations = _queued(campaign, 5)
    result = delivery.delivery_run()
    again = delivery.delivery_run()
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
    ids, lease = delivery.claim_batch()
    assert ids == [invitation.pk]
    assert delivery.claim_batch()[0] == []
    with time_machine.travel(lease + timedelta(seconds=1)):
        assert delivery.claim_batch()[0] == [invitation.pk]  # the worker died: handed on


def test_a_transient_failure_is_retried_later_with_exponential_backoff(
    campaign, mailoutbox, smtp_fails
):
    (invitation,) = _queued(campaign)
    smtp_fails(smtplib.SMTPRecipientsRefused({"x": (451, b"try again later")}))
    delivery.delivery_run()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.attempts == 1
    assert "451" in invitation.last_error
    assert invitation.claimed_until is None
    first_wait = invitation.next_attempt_at - timezone.now()
    assert timedelta(seconds=40) < first_wait < timedelta(seconds=80)
    assert delivery.claim_batch()[0] == []  # not before its time
    with time_machine.travel(invitation.next_attempt_at + timedelta(seconds=1)):
        delivery.delivery_run()
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
    result = delivery.delivery_run()
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
            delivery.delivery_run()
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

    monkeypatch.setattr(delivery._Connection, "open", cannot_open)
    result = delivery.delivery_run()
    assert result.connection_down
    rows = Invitation.objects.filter(campaign=campaign)
    assert {(r.status, r.attempts) for r in rows} == {(InvitationStatus.PENDING, 1)}
    assert all("Connection refused" in r.last_error for r in rows)


def test_an_invalid_address_fails_without_retrying(campaign, monkeypatch):
    (invitation,) = _queued(campaign)
    Contact.objects.filter(pk=invitation.contact_id).update(email="bad address@@example.com")

    def send(self, rendered):
        raise ValueError("Invalid address")

    monkeypatch.setattr(delivery._Connection, "send", send)
    delivery.delivery_run()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.FAILED
    assert "Invalid address" in invitation.last_error


def test_a_contact_who_unsubscribed_after_the_launch_gets_nothing(campaign, mailoutbox):
    (invitation,) = _queued(campaign)
    Contact.objects.filter(pk=invitation.contact_id).update(unsubscribed_at=timezone.now())
    delivery.delivery_run()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.suppression_reason) == ("suppressed", "unsubscribed")
    assert mailoutbox == []


def test_a_paused_campaigns_invitations_are_not_claimed(campaign):
    _queued(campaign, 2)
    campaign.status = CampaignStatus.PAUSED
    campaign.save()
    assert delivery.claim_batch()[0] == []
    assert not delivery.work_waiting()


def test_api_triggered_invitations_without_a_campaign_are_delivered(org, mailoutbox):
    invitation = InvitationFactory(organization=org)
    link_only = InvitationFactory(organization=org, channel="link")
    delivery.delivery_run()
    assert [m.to[0] for m in mailoutbox] == [invitation.contact.email]
    link_only.refresh_from_db()
    assert link_only.status == InvitationStatus.PENDING  # the integration delivers that one


def test_an_expired_invitation_is_not_sent(campaign, mailoutbox):
    _queued(campaign, expires_at=timezone.now() - timedelta(minutes=1))
    delivery.delivery_run()
    assert mailoutbox == []


def test_the_sweep_asks_for_a_pass_only_when_there_is_work(campaign, monkeypatch):
    kicks = []
    monkeypatch.setattr(delivery, "invitations_kick", lambda **kw: kicks.append(kw))
    _queued(campaign)
    ids, lease = delivery.claim_batch()  # a worker claims the invitation…
    assert len(ids) == 1
    assert delivery.delivery_sweep() is False  # …and holds the lease: nothing to do
    with time_machine.travel(lease + timedelta(seconds=1)):  # …then dies
        assert delivery.delivery_sweep() is True
    assert len(kicks) == 1


def test_the_sweep_completes_a_campaign_with_nothing_left_to_send(campaign):
    _queued(campaign, status=InvitationStatus.SENT)
    delivery.delivery_sweep()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert campaign.completed_at is not None


def test_a_batch_stops_and_releases_the_rest_before_its_lease_could_expire(
    campaign, mailoutbox, settings
):
    _queued(campaign, 3)
    settings.CX_DELIVERY_LEASE_SECONDS = 0.001  # a lease that is over before the first send
    ids, lease = delivery.claim_batch()
    result = delivery.send_claimed(ids, lease)
    assert (result.sent, result.released) == (0, 3)
    assert mailoutbox == []
    assert not Invitation.objects.filter(claimed_until__isnull=False).exists()


def test_sending_a_claimed_batch_twice_sends_each_email_once(campaign, mailoutbox):
    _queued(campaign, 2)
    ids, lease = delivery.claim_batch()
    delivery.send_claimed(ids, lease)
    delivery.send_claimed(ids, lease)  # again, as a duplicated message would
    assert len(mailoutbox) == 2
    assert Invitation.objects.filter(status=InvitationStatus.SENT).count() == 2


def test_the_rate_limit_holds_a_process_to_n_emails_per_second(monkeypatch):
    clock = {"now": 1000.0}
    slept = []
    monkeypatch.setattr(delivery.time, "time", lambda: clock["now"])

    def sleep(seconds):
        slept.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(delivery.time, "sleep", sleep)
    limiter = delivery.RateLimiter(per_second=5)
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
    monkeypatch.setattr(delivery.time, "time", lambda: clock["now"])

    def sleep(seconds):
        slept.append(seconds)
        clock["now"] += seconds

    monkeypatch.setattr(delivery.time, "sleep", sleep)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens: a connection would fail
    monkeypatch.setattr(delivery, "_limiter", None)
    settings.CX_DELIVERY_RATE_LIMIT = _default_setting("CX_DELIVERY_RATE_LIMIT")
    limiter = delivery.rate_limiter()
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
    failure = delivery.classify(exc)
    assert (failure.permanent, failure.connection_broken) == (permanent, broken)


# --- opens, bounces, complaints ----------------------------------------------------------


def test_the_open_pixel_marks_an_invitation_opened_once(org):
    invitation = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    assert delivery.invitation_opened(token=invitation.token) is True
    assert delivery.invitation_opened(token=invitation.token) is False
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED
    assert DeliveryEvent.objects.filter(kind="open").count() == 1
    responded = InvitationFactory(organization=org, status=InvitationStatus.RESPONDED)
    delivery.invitation_opened(token=responded.token)
    assert Invitation.objects.get(pk=responded.pk).status == InvitationStatus.RESPONDED


def test_a_hard_bounce_suppresses_the_address_everywhere(org, campaign):
    sent = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    (queued,) = _queued(campaign, contact=sent.contact)
    delivery.delivery_report(org=org, kind="bounce", invitation=sent, detail="550 5.1.1 unknown")
    sent.refresh_from_db()
    queued.refresh_from_db()
    assert sent.status == InvitationStatus.BOUNCED
    assert (queued.status, queued.suppression_reason) == ("suppressed", "bounced")
    contact = Contact.objects.get(pk=sent.contact_id)
    assert contact.bounced_at is not None
    assert "550 5.1.1" in contact.suppression_reason


def test_a_soft_bounce_is_only_recorded(org):
    sent = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    event = delivery.delivery_report(
        org=org, kind="bounce", invitation=sent, permanent=False, detail="mailbox full"
    )
    assert event.detail == "soft: mailbox full"
    assert Contact.objects.get(pk=sent.contact_id).bounced_at is None
    assert Invitation.objects.get(pk=sent.pk).status == InvitationStatus.SENT


def test_a_complaint_unsubscribes_the_contact(org):
    contact = ContactFactory(organization=org)
    delivery.delivery_report(org=org, kind="complaint", email=contact.email.upper())
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None
    assert contact.suppression_reason.startswith("complaint")
