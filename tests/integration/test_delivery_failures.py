"""Delivery survives its failures: an SMTP server that is down and comes back, and a worker
killed with SIGKILL mid-campaign. Real worker, Redis, PostgreSQL and SMTP on loopback."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from cxplatform.services import SYSTEM
from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus
from feedback.services import campaigns
from tests.factories import OrganizationFactory
from tests.integration.delivery_support import (
    Beat,
    SmtpSink,
    free_port,
    make_campaign,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.integration


def _sent(campaign: Campaign) -> int:
    return Invitation.objects.filter(campaign=campaign, status=InvitationStatus.SENT).count()


def test_an_smtp_server_that_is_down_then_back_ends_with_every_email_delivered_once(
    start_worker,
):
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=150)
    port = free_port()  # nothing listens here yet: connections are refused
    worker = start_worker(concurrency=2, **worker_env(f"smtp://127.0.0.1:{port}"))

    sink = SmtpSink(port)
    with Beat(every=0.5):
        campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
        wait_until(
            lambda: (
                Invitation.objects.filter(
                    campaign=campaign, status=InvitationStatus.PENDING, attempts__gte=3
                ).count()
                >= 40
            ),
            timeout=40,
            what="repeated failed attempts while the server is down",
            workers=[worker],
        )
        pending = Invitation.objects.filter(campaign=campaign, status=InvitationStatus.PENDING)
        assert pending.count() == 150  # nothing is lost or given up while the server is down
        assert "Connection refused" in pending.exclude(last_error="").first().last_error

        sink.start()
        try:
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
                timeout=50,
                what="every email after the server came back",
                workers=[worker],
            )
            recipients = Counter(m.to for m in sink.messages())
        finally:
            sink.stop()
    assert len(recipients) == 150
    assert max(recipients.values()) == 1
    assert _sent(campaign) == 150
    assert not Invitation.objects.filter(campaign=campaign, status=InvitationStatus.FAILED)


def test_a_worker_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(start_worker):
    """Deterministic: the sink holds the 30th message unanswered, the worker is killed while
    it waits for the reply, and the message is then refused (never delivered). Marking a
    row sent before its send would lose that one for good."""
    org = OrganizationFactory(slug="acme")
    eligible = 60
    campaign = make_campaign(org, eligible=eligible)
    sink = SmtpSink(hold_at=30).start()
    try:
        doomed = start_worker(concurrency=1, **worker_env(sink.url))
        campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
        wait_until(sink.holding.is_set, timeout=30, what="the held message", workers=[doomed])
        doomed.kill()
        sink.release.set()
        assert sink.count() == 29
        claimed = Invitation.objects.filter(
            campaign=campaign, status=InvitationStatus.PENDING, claimed_until__isnull=False
        ).count()
        assert claimed > 0  # the dead worker held claims: they must expire, not be lost

        survivor = start_worker(concurrency=1, **worker_env(sink.url))
        with Beat(every=0.5):
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
                timeout=30,
                what="every email after the restart",
                workers=[survivor],
            )
        received = sink.messages()
    finally:
        sink.stop()
    recipients = Counter(m.to for m in received)
    assert set(recipients) == {f"person{i}@example.com" for i in range(eligible)}
    assert max(recipients.values()) == 1
    assert _sent(campaign) == eligible


def test_an_smtp_server_slower_than_the_lease_never_gets_an_email_twice(start_worker):
    """The first recipient's RCPT hangs for twice the lease: the worker must give that
    exchange up before its claim expires, or the sweep hands the row to a second worker
    while the first one is still sending it."""
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=6)
    lease = 2.0
    sink = SmtpSink(rcpt_hang={"person0@example.com": 2 * lease}).start()
    env = worker_env(sink.url, CX_DELIVERY_LEASE_SECONDS=str(lease), EMAIL_TIMEOUT="30")
    try:
        worker = start_worker(concurrency=2, **env)
        with Beat(every=0.5):
            campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
                timeout=30,
                what="every email",
                workers=[worker],
            )
            time.sleep(lease)  # the hung exchange would have finished by now
        received = sink.messages()
    finally:
        sink.stop()
    recipients = Counter(m.to for m in received)
    assert set(recipients) == {f"person{i}@example.com" for i in range(6)}
    assert max(recipients.values()) == 1, recipients.most_common(2)
    slow = Invitation.objects.get(campaign=campaign, contact__email="person0@example.com")
    assert slow.status == InvitationStatus.SENT
    assert slow.attempts == 2  # the hung try counted as a transient failure


def test_smtp_refusals_mid_session_are_retried_failed_or_reconnected_as_they_say(start_worker):
    """450 on RCPT: transient, retried later and delivered. 550: permanent, failed with
    the server's reason. 421 on a DATA: the server is closing; the worker reconnects and
    the rest of the batch goes out on the new connection at its first attempt."""
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=10)
    sink = SmtpSink(
        rcpt_replies={
            "person1@example.com": ["450 4.2.1 Mailbox busy, try later"],
            "person2@example.com": ["550 5.1.1 No such user here"] * 5,
        },
        data_replies={4: "421 4.3.2 Service shutting down"},
    ).start()
    try:
        worker = start_worker(concurrency=1, **worker_env(sink.url))
        with Beat(every=0.5):
            campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
                timeout=30,
                what="every email",
                workers=[worker],
            )
        received = sink.messages()
    finally:
        sink.stop()
    rows = {
        inv.contact.email: inv
        for inv in Invitation.objects.filter(campaign=campaign).select_related("contact")
    }
    recipients = Counter(m.to for m in received)
    assert set(recipients) == set(rows) - {"person2@example.com"}
    assert max(recipients.values()) == 1
    refused = rows["person2@example.com"]
    assert refused.status == InvitationStatus.FAILED
    assert "550" in refused.last_error
    assert "No such user" in refused.last_error
    assert refused.attempts == 1  # permanent: not retried
    busy = rows["person1@example.com"]
    assert (busy.status, busy.attempts) == (InvitationStatus.SENT, 2)
    # The 4th DATA was person5's (person1 and person2 never reached DATA): refused with
    # 421, then sent on a later attempt; everyone after it went out on the new connection.
    closed = rows["person5@example.com"]
    assert (closed.status, closed.attempts) == (InvitationStatus.SENT, 2)
    first_try = {e for e, inv in rows.items() if inv.attempts == 1 and e != "person2@example.com"}
    assert first_try == set(rows) - {
        "person1@example.com",
        "person2@example.com",
        "person5@example.com",
    }
