"""Campaigns in a real Chromium: a manager creates a campaign, checks the preview, launches
it; the emails land in the demo mailbox with working links; the unsubscribe page asks
before it acts; the progress page refreshes itself (htmx) while a campaign is sending.
Screenshots on a laptop and a phone go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feedback.demo import campaigns as demo_campaigns
from feedback.models import (
    Campaign,
    CampaignStatus,
    Contact,
    Invitation,
    InvitationStatus,
)
from tests.browser.conftest import ARTIFACTS
from tests.factories import MembershipFactory, UserFactory
from tests.feedback.factories import (
    CampaignFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
)
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_org(org, settings):
    """An organization with a survey, 60 contacts and the demo's sent campaign; email goes
    to the demo mailbox, as in the embedded demo."""
    settings.MAILERS = {"default": {"BACKEND": "cxplatform.mail.MailboxBackend"}}
    org.name = org.sender_name = "Northwind Outfitters"
    org.time_zone = "Europe/Berlin"
    org.save()
    touchpoint = TouchpointFactory(organization=org, name="Checkout")
    survey = SurveyFactory(organization=org, name="Relationship NPS", touchpoint=touchpoint)
    first = ["Olivia", "Noah", "Amelia", "Leo", "Isla", "Oscar", "Ava", "Arthur", "Mia", "Jack"]
    last = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas"]
    Contact.objects.bulk_create(
        Contact(
            organization=org,
            email=f"{first[i % 10].lower()}.{last[i % 8].lower()}{i}@example.com",
            name=f"{first[i % 10]} {last[i % 8]}",
            locale="en",
            attributes={"plan": "premium" if i % 3 == 0 else "basic"},
        )
        for i in range(60)
    )
    Contact.objects.filter(pk__in=Contact.objects.order_by("pk").values("pk")[:3]).update(
        unsubscribed_at=timezone.now()
    )
    demo_campaigns.seed(org=org)
    return org, survey


@pytest.fixture
def manager_login(org, login, page):
    user = UserFactory(email="maya@acme.example", first_name="Maya", last_name="Manager")
    MembershipFactory(organization=org, user=user, role="manager")
    page.set_viewport_size(LAPTOP)
    login(page, user.email)
    return user


def test_a_manager_creates_previews_and_launches_a_campaign_that_lands_in_the_mailbox(
    demo_org, manager_login, page, live_server, screenshot
):
    org, _survey = demo_org
    page.goto(f"{live_server.url}/campaigns/")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    expect(page.get_by_role("link", name="Spring loyalty check")).to_be_visible()
    screenshot(page, "campaigns-list")
    page.set_viewport_size(PHONE)
    screenshot(page, "campaigns-list-phone")
    page.set_viewport_size(LAPTOP)

    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Checkout pulse")
    page.get_by_label("Survey", exact=False).first.select_option(label="Relationship NPS")
    page.get_by_label("Contacts matching a filter").check()
    expect(page.get_by_label("Attributes")).to_be_visible()
    expect(page.locator("#id_segment")).to_be_hidden()  # only the chosen audience's panel
    page.get_by_label("Attributes").fill("plan=premium")
    page.get_by_label("Subject").fill("{{ contact.first_name }}, how was your checkout?")
    page.get_by_label("Skip anyone surveyed in the last (days)").fill("0")
    screenshot(page, "campaign-form")
    page.set_viewport_size(PHONE)
    screenshot(page, "campaign-form-phone")
    page.set_viewport_size(LAPTOP)
    page.get_by_role("button", name="Save and preview").click()

    expect(page.get_by_role("heading", name=re.compile("Preview"))).to_be_visible()
    premium = Contact.objects.filter(
        organization=org, attributes__plan="premium", unsubscribed_at__isnull=True
    ).count()
    expect(page.get_by_test_id("eligible-count")).to_have_text(str(premium))
    expect(page.get_by_test_id("email-subject")).to_contain_text("how was your checkout?")
    frame = page.frame_locator("iframe[title^='The email']")
    expect(frame.get_by_role("link", name="10", exact=True)).to_be_visible()
    screenshot(page, "campaign-preview")
    page.set_viewport_size(PHONE)
    screenshot(page, "campaign-preview-phone")
    page.locator("iframe[title^='The email']").scroll_into_view_if_needed()
    expect(frame.get_by_role("link", name="10", exact=True)).to_be_visible()
    page.locator(".email-preview").screenshot(
        path=str(ARTIFACTS / "campaign-preview-email-phone.png")
    )
    page.set_viewport_size(LAPTOP)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Launch now").click()
    expect(page.get_by_text("Launched: the emails are on their way.")).to_be_visible()
    expect(page.locator("[data-kpi=sent] .kpi-value")).to_have_text(str(premium))
    campaign = Campaign.objects.get(name="Checkout pulse")
    assert campaign.status == CampaignStatus.SENT
    screenshot(page, "campaign-progress-just-sent")

    # The email, as the demo mailbox shows it, and its links.
    invitation = (
        Invitation.objects.filter(campaign=campaign, status=InvitationStatus.SENT)
        .order_by("pk")
        .first()
    )
    page.goto(f"{live_server.url}/mailbox/?q={invitation.contact.email}")
    page.get_by_role("link", name=re.compile("how was your checkout")).first.click()
    email_frame = page.frame_locator("iframe.mail-frame")
    expect(email_frame.get_by_role("link", name="Unsubscribe from surveys")).to_be_visible()
    screenshot(page, "campaign-email-in-mailbox")
    page.set_viewport_size(PHONE)
    screenshot(page, "campaign-email-in-mailbox-phone")
    page.set_viewport_size(LAPTOP)
    score_link = email_frame.get_by_role("link", name="9", exact=True)
    assert score_link.get_attribute("href").endswith(f"/s/{invitation.token}/9/")

    # The unsubscribe link: the page asks, nothing changes until the button is pressed.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/u/{invitation.token}/")
    expect(page.get_by_role("heading", name="Unsubscribe from surveys?")).to_be_visible()
    screenshot(page, "unsubscribe-confirm-phone")
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is None
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    screenshot(page, "unsubscribe-done-phone")
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is not None


def test_the_progress_page_refreshes_itself_while_the_campaign_sends(
    demo_org, manager_login, page, live_server, screenshot
):
    org, survey = demo_org
    campaign = CampaignFactory(
        organization=org, survey=survey, name="Autumn check-in", status=CampaignStatus.SENDING
    )
    campaign.launched_at = timezone.now()
    campaign.save()
    invitations = [
        InvitationFactory(organization=org, campaign=campaign, survey=survey, contact=contact)
        for contact in Contact.objects.filter(organization=org)[:40]
    ]
    # Nothing sends them in this test (they belong to no worker): the test plays the worker.
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    Invitation.objects.filter(pk__in=[i.pk for i in invitations[:15]]).update(
        status=InvitationStatus.SENT, sent_at=timezone.now()
    )
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    expect(page.locator("[data-kpi=queued] .kpi-value")).to_have_text("25")
    expect(page.get_by_text("live", exact=True)).to_be_visible()
    screenshot(page, "campaign-progress-sending")

    Invitation.objects.filter(pk__in=[i.pk for i in invitations[15:]]).update(
        status=InvitationStatus.SENT, sent_at=timezone.now()
    )
    for n, invitation in enumerate(invitations[:6]):
        # Five finish the survey, one stops half-way.
        ResponseFactory(
            organization=org,
            survey=survey,
            contact=invitation.contact,
            invitation=invitation,
            completed=n < 5,
        )
    Invitation.objects.filter(pk__in=[i.pk for i in invitations[:6]]).update(
        status=InvitationStatus.RESPONDED, responded_at=timezone.now()
    )
    expect(page.locator("[data-kpi=queued] .kpi-value")).to_have_text("0", timeout=10_000)
    expect(page.locator("[data-kpi=completed] .kpi-value")).to_have_text("5")
    expect(page.locator("[data-kpi=partial] .kpi-value")).to_have_text("1")

    page.goto(f"{live_server.url}/campaigns/")
    page.get_by_role("link", name="Spring loyalty check").click()
    expect(page.locator("[data-kpi=completed] .kpi-value")).not_to_have_text("0")
    screenshot(page, "campaign-progress")
    page.set_viewport_size(PHONE)
    screenshot(page, "campaign-progress-phone")
    page.get_by_role("link", name="Failed").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
