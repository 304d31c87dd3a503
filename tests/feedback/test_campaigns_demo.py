"""The demo campaigns: a sent one with realistic progress, a scheduled one, a draft that
launches into the demo mailbox; safe to seed twice."""

from __future__ import annotations

import io

import pytest

from cxplatform.models import MailboxMessage
from cxplatform.services import SYSTEM
from feedback.demo import campaigns as demo_campaigns
from feedback.demo import contacts as demo_contacts
from feedback.models import Campaign, CampaignStatus, Invitation, Response, Segment
from feedback.selectors import campaigns as selectors
from feedback.services import campaigns, surveys
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(org):
    TouchpointFactory(organization=org, name="Checkout")
    for kind in ("nps", "csat", "ces"):
        surveys.survey_create_from_template(org=org, actor=SYSTEM, kind=kind, status="active")
    demo_contacts.seed(org=org, quick=True)
    return org


def test_the_demo_has_a_sent_a_scheduled_and_a_draft_campaign_and_seeds_once(demo):
    out = io.StringIO()
    demo_campaigns.seed(org=demo, stdout=out, quick=True)
    demo_campaigns.seed(org=demo, stdout=out, quick=True)
    assert "already there" in out.getvalue()
    by_name = {c.name: c for c in Campaign.objects.for_org(demo)}
    assert len(by_name) == 3
    assert Segment.objects.for_org(demo).count() == 1

    sent = by_name[demo_campaigns.SENT_NAME]
    assert sent.status == CampaignStatus.SENT
    progress = selectors.campaign_progress(campaign=sent)
    assert progress.sent > 50
    assert 0 < progress.completed < progress.sent
    assert progress.opened > progress.started >= progress.completed
    assert Response.objects.filter(campaign=sent, completed=True).count() == progress.completed
    assert 5 < progress.response_rate < 50

    scheduled = by_name[demo_campaigns.SCHEDULED_NAME]
    assert scheduled.status == CampaignStatus.SCHEDULED
    assert campaigns.campaigns_launch_due() == []  # next Monday, not now


def test_the_demo_draft_launches_into_the_mailbox(
    demo, settings, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": "cxplatform.mail.MailboxBackend"}}
    demo_campaigns.seed(org=demo, quick=True)
    draft = Campaign.objects.get(organization=demo, name=demo_campaigns.DRAFT_NAME)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.campaign_launch(campaign=draft, actor=SYSTEM)
    sent = Invitation.objects.filter(campaign=draft, status="sent").count()
    assert sent == 5
    assert MailboxMessage.objects.filter(subject__contains="how easy was your return").count() == 5
