"""A campaign sent by a real Celery worker (Redis broker, PostgreSQL) to a real SMTP server
on loopback: every eligible contact gets exactly one email, with working links and the
unsubscribe headers; the suppressed get none."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cxplatform.services import SYSTEM
from feedback.models import Campaign, CampaignStatus, Contact, Invitation, InvitationStatus
from feedback.services import campaigns
from tests.factories import OrganizationFactory
from tests.integration.conftest import wait_for
from tests.integration.delivery_support import SITE_URL, SmtpSink, make_campaign, worker_env

pytestmark = pytest.mark.integration


@pytest.fixture
def sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def test_every_eligible_contact_receives_exactly_one_email_with_working_links(start_worker, sink):
    org = OrganizationFactory(name="Acme", slug="acme")
    campaign = make_campaign(org, eligible=120, fatigue_days=30)
    now = timezone.now()
    unsubscribed = [
        Contact.objects.create(organization=org, email=f"gone{i}@example.com", unsubscribed_at=now)
        for i in range(5)
    ]
    fatigued = [
        Contact.objects.create(
            organization=org,
            email=f"tired{i}@example.com",
            last_surveyed_at=now - timedelta(days=3),
        )
        for i in range(5)
    ]
    bounced = Contact.objects.create(organization=org, email="bounced@example.com", bounced_at=now)
    worker = start_worker(concurrency=2, **worker_env(sink.url))

    campaigns.campaign_launch(campaign=campaign, actor=SYSTEM)

    wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT,
        timeout=60,
        what=f"the campaign to be sent; worker log:\n{worker.output()}",
    )
    received = sink.messages()
    recipients = Counter(m.to for m in received)
    assert len(received) == 120
    assert set(recipients) == {f"person{i}@example.com" for i in range(120)}
    assert max(recipients.values()) == 1
    assert len({m.message_id for m in received}) == 120
    for contact in [*unsubscribed, *fatigued, bounced]:
        assert contact.email not in recipients

    statuses = Counter(
        Invitation.objects.filter(campaign=campaign).values_list("status", "suppression_reason")
    )
    assert statuses == {
        (InvitationStatus.SENT, ""): 120,
        (InvitationStatus.SUPPRESSED, "unsubscribed"): 5,
        (InvitationStatus.SUPPRESSED, "fatigued"): 5,
        (InvitationStatus.SUPPRESSED, "bounced"): 1,
    }

    # One email, looked at closely: headers, one-click links, the unsubscribe link.
    message = next(m for m in received if m.to == "person7@example.com")
    invitation = Invitation.objects.get(campaign=campaign, contact__email="person7@example.com")
    token = invitation.token
    assert message.message_id == invitation.message_id
    assert str(message.message["List-Unsubscribe"]).strip() == f"<{SITE_URL}/u/{token}/>"
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Person" in message.message["Subject"]
    links = message.links()
    score_links = [link for link in links if re.fullmatch(rf"{SITE_URL}/s/{token}/\d+/", link)]
    assert [int(link.rstrip("/").rsplit("/", 1)[1]) for link in score_links] == list(range(11))
    assert f"{SITE_URL}/u/{token}/" in links
    assert f'src="{SITE_URL}/o/{token}.gif"' in message.part("html")
    text = message.part("plain")
    assert f"{SITE_URL}/s/{token}/10/" in text
    assert f"{SITE_URL}/u/{token}/" in text

    client = Client()
    for link in (score_links[9], f"{SITE_URL}/s/{token}/"):
        assert client.get(link.removeprefix(SITE_URL)).status_code == 200
    # A GET of the unsubscribe link (a mail scanner, a link preview) changes nothing.
    page = client.get(f"/u/{token}/")
    assert page.status_code == 200
    assert b"Unsubscribe" in page.content
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is None
    # The mail client's one-click POST (RFC 8058) unsubscribes, at once.
    done = client.post(f"/u/{token}/", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is not None
    # The open pixel marks the invitation opened.
    pixel = client.get(f"/o/{token}.gif")
    assert pixel["Content-Type"] == "image/gif"
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.OPENED
