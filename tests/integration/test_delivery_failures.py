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


def test_a_worker_killed_mid_campaign_loses_nothing_and_duplicates_at_most_one_per_process(
    start_worker,
):
    org = OrganizationFactory(slug="acme")
    campaign = make_campaign(org, eligible=400)
    sink = SmtpSink(delay=0.01).start()  # ~10 ms per message: the kill lands mid-campaign
    processes = 2
    try:
        doomed = start_worker(concurrency=processes, **worker_env(sink.url))
        campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)
        wait_until(
            lambda: _sent(campaign) >= 80,
            timeout=40,
            what="the first emails",
            workers=[doomed],
        )
        doomed.kill()
        sent_at_kill = _sent(campaign)
        assert sent_at_kill < 400, "the campaign finished before the kill: make it bigger"
        claimed = Invitation.objects.filter(
            campaign=campaign, status=InvitationStatus.PENDING, claimed_until__isnull=False
        ).count()
        assert claimed > 0  # the dead worker held claims: they must expire, not be lost

        time.sleep(0.5)
        survivor = start_worker(concurrency=2, **worker_env(sink.url))
        with Beat(every=1.0):
            wait_until(
                lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
                timeout=50,
                what="every email after the restart",
                workers=[survivor],
            )
        received = sink.messages()
    finally:
        sink.stop()
    recipients = Counter(m.to for m in received)
    assert set(recipients) == {f"person{i}@example.com" for i in range(400)}
    duplicates = len(received) - len(recipients)
    assert duplicates <= processes, Counter(m.message_id for m in received).most_common(3)
    assert _sent(campaign) == 400
