"""Contacts in a real Chromium: search, the contact's timeline, the CSV import with its live
progress, and a customer answering an emailed survey on a phone, then showing up on their
timeline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cxplatform.services import SYSTEM
from feedback.models import ContactImport, ImportStatus, Invitation
from feedback.services import imports, invitations
from tests.feedback.factories import (
    ContactFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
)
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 860}
# A person's phone browser: headless Chromium's own user agent reads as a mail scanner.
PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "user_agent": PHONE_AGENT}


PHONE = {"width": 390, "height": 844}


def _history(org):
    """A customer with a story across two journeys, and some other contacts."""
    now = timezone.now()
    survey = SurveyFactory(organization=org, name="Relationship NPS")
    delivery = TouchpointFactory(
        organization=org,
        name="Parcel delivery",
        stage__name="Delivery",
        stage__journey__name="Online shop purchase",
    )
    hotline = TouchpointFactory(
        organization=org,
        name="Hotline call",
        stage__name="Get help",
        stage__journey__name="Support request",
    )
    ann = ContactFactory(
        organization=org,
        email="ann.lee@example.com",
        name="Ann Lee",
        company="Lee Outdoor Ltd",
        locale="en",
        time_zone="Europe/London",
        attributes={"plan": "premium", "region": "UK", "customer_since": "2019-03-01"},
        created_at=now - timedelta(days=400),
        last_surveyed_at=now - timedelta(hours=3),
    )
    first = InvitationFactory(
        organization=org,
        contact=ann,
        survey=survey,
        touchpoint=delivery,
        status="responded",
        created_at=now - timedelta(days=40),
        sent_at=now - timedelta(days=40),
        opened_at=now - timedelta(days=39),
        responded_at=now - timedelta(days=39),
    )
    ResponseFactory(
        organization=org,
        contact=ann,
        survey=survey,
        invitation=first,
        touchpoint=delivery,
        primary_score=4,
        comment="My parcel arrived two weeks late and nobody told me why.",
        submitted_at=now - timedelta(days=39),
    )
    second = InvitationFactory(
        organization=org,
        contact=ann,
        survey=survey,
        touchpoint=hotline,
        status="responded",
        created_at=now - timedelta(days=5),
        sent_at=now - timedelta(days=5),
        responded_at=now - timedelta(days=4),
    )
    ResponseFactory(
        organization=org,
        contact=ann,
        survey=survey,
        invitation=second,
        touchpoint=hotline,
        primary_score=10,
        comment="Support solved my problem on the first call. Thank you!",
        submitted_at=now - timedelta(days=4),
    )
    InvitationFactory(
        organization=org,
        contact=ann,
        survey=survey,
        status="sent",
        created_at=now - timedelta(hours=3),
        sent_at=now - timedelta(hours=3),
    )
    for n, name in enumerate(["Bob Brown", "Chloé Martin", "Jonas Becker", "Zoë Müller"]):
        ContactFactory(
            organization=org,
            name=name,
            email=f"{name.split()[0].lower()}{n}@example.com",
            locale=["en", "fr", "de", "de"][n],
            unsubscribed_at=now if n == 3 else None,
        )
    return ann


def test_a_manager_searches_contacts_and_reads_a_timeline_across_journeys(
    page, live_server, login, manager_user, org, screenshot
):
    ann = _history(org)
    page.set_viewport_size(LAPTOP)
    login(page, manager_user.email)

    page.goto(f"{live_server.url}/contacts/")
    expect(page.get_by_role("status")).to_contain_text("5 contacts")
    screenshot(page, "contacts-list-laptop")
    page.get_by_label("Search").fill("lee outdoor")
    expect(page.get_by_role("status")).to_contain_text("1 contact matches")
    expect(page).to_have_url(re.compile(r"/contacts/\?q=lee(\+|%20)outdoor$"))
    page.get_by_role("link", name="Ann Lee").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ann Lee")
    timeline = page.locator(".timeline")
    expect(timeline.locator(".timeline-entry")).to_have_count(5)
    expect(timeline).to_contain_text("Support solved my problem on the first call.")
    expect(timeline).to_contain_text("Parcel delivery")
    journeys = page.locator(".journey-chip")
    expect(journeys).to_have_text(["Online shop purchase", "Support request"])
    entries = timeline.locator(".timeline-entry").all_inner_texts()
    assert entries[0].startswith("Invited"), "newest first"
    assert "Support solved" in entries[1]
    screenshot(page, "contact-detail-laptop")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/contacts/{ann.pk}/")
    screenshot(page, "contact-detail-phone")
    page.goto(f"{live_server.url}/contacts/")
    screenshot(page, "contacts-list-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "no sideways scrolling on a phone"


def test_a_manager_edits_attributes_with_add_and_remove(
    page, live_server, login, manager_user, org, screenshot
):
    contact = ContactFactory(organization=org, name="Ann Lee", attributes={"plan": "basic"})
    page.set_viewport_size(LAPTOP)
    login(page, manager_user.email)

    page.goto(f"{live_server.url}/contacts/{contact.pk}/edit/")
    page.get_by_role("button", name="Add attribute").click()
    page.get_by_label("Attribute name").last.fill("region")
    page.get_by_label("Attribute value").last.fill("North")
    page.get_by_label("Attribute value").first.fill("premium")
    screenshot(page, "contact-edit-laptop")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Ann Lee")
    contact.refresh_from_db()
    assert contact.attributes == {"plan": "premium", "region": "North"}

    page.goto(f"{live_server.url}/contacts/{contact.pk}/edit/")
    page.get_by_role("button", name="Remove this attribute").first.click()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ann Lee")
    contact.refresh_from_db()
    assert contact.attributes == {"region": "North"}


def test_the_import_page_shows_live_progress_then_the_bad_rows(
    page, live_server, login, manager_user, org, screenshot
):
    lines = ["email;name;company;plan"]
    lines += [f"person{i}@example.com;Person {i};Company {i % 9};pro" for i in range(3000)]
    lines[120] = "not-an-address;Broken;;"
    lines[950] = ";No Email;;"
    lines[2222] = "person5@example.com;Twice;;"
    contact_import = ContactImport.objects.create(
        organization=org,
        created_by=manager_user,
        filename="customers-november.csv",
        content="\n".join(lines).encode("cp1252"),
        status=ImportStatus.RUNNING,
        started_at=timezone.now(),
        total_rows=3000,
        processed_rows=1200,
        created_count=1199,
        error_count=1,
        errors=[
            {
                "row": 121,
                "email": "not-an-address",
                "reason": "Invalid email address “not-an-address”.",
            }
        ],
    )
    for viewport, label in ((LAPTOP, "laptop"), (PHONE, "phone")):
        page.set_viewport_size(viewport)
        login(page, manager_user.email)
        page.goto(f"{live_server.url}/contacts/imports/{contact_import.pk}/")
        expect(page.get_by_role("heading", name="Importing…")).to_be_visible()
        expect(page.get_by_text("1,200 of 3,000 rows (40%)")).to_be_visible()
        screenshot(page, f"import-progress-{label}")
        page.context.clear_cookies()

    # The task finishes the file (resuming after the 1 200 rows it had done); the open
    # page polls and shows the result without a reload.
    page.set_viewport_size(LAPTOP)
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/contacts/imports/{contact_import.pk}/")
    expect(page.get_by_role("heading", name="Importing…")).to_be_visible()
    ContactImport.objects.filter(pk=contact_import.pk).update(
        processed_rows=0, created_count=0, error_count=0, errors=[]
    )
    imports.import_run(import_id=contact_import.pk)
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible(timeout=10_000)
    bad_rows = page.locator("table.bad-rows tbody tr")
    expect(bad_rows).to_have_count(3)
    expect(bad_rows.nth(0)).to_contain_text("121")
    expect(bad_rows.nth(1)).to_contain_text("Missing email address.")
    expect(bad_rows.nth(2)).to_contain_text("Duplicate: the same email as row 7")
    expect(page.get_by_role("link", name="Download bad rows (CSV)")).to_be_visible()
    screenshot(page, "import-result-laptop")
    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "import-result-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


def test_a_customer_answers_the_emailed_survey_on_a_phone_and_it_shows_on_their_timeline(
    page, live_server, login, manager_user, org, mailoutbox, screenshot, settings
):
    settings.SITE_URL = live_server.url
    survey = SurveyFactory(organization=org, name="Customer NPS", status="active")
    touchpoint = TouchpointFactory(
        organization=org, name="Store visit", stage__journey__name="In-store purchase"
    )
    result = invitations.invitation_trigger(
        org=org,
        actor=SYSTEM,
        survey=survey,
        contact_email="mia.jones@example.com",
        contact_name="Mia Jones",
        touchpoint=touchpoint,
        external_ref="pos-receipt-77",
    )
    invitation = Invitation.objects.get(pk=result.invitation.pk)
    assert invitation.status == "sent"
    assert len(mailoutbox) == 1
    link = invitations.survey_url(invitation)
    assert link in mailoutbox[0].body
    # A person reads the email a while after it arrived (a POST seconds after the send
    # would be flagged as a mail scanner).
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(minutes=30)
    )

    page.set_viewport_size(PHONE)
    page.goto(link)
    # The page saves each answer as it goes; let those saves finish before sending, as
    # the live server's in-memory SQLite takes one writer at a time.
    page.locator("label[for$='-9']").first.click()
    page.wait_for_load_state("networkidle")
    page.locator("textarea").first.fill("Lovely staff, they found my size in minutes.")
    page.locator("textarea").first.blur()
    page.wait_for_load_state("networkidle")
    screenshot(page, "respondent-answering-phone")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("body")).to_contain_text(re.compile("Thank", re.I))

    login(page, manager_user.email)
    page.goto(f"{live_server.url}/contacts/{invitation.contact_id}/")
    timeline = page.locator(".timeline")
    expect(timeline.locator(".kind-response")).to_have_count(1)
    expect(timeline).to_contain_text("Lovely staff, they found my size in minutes.")
    expect(timeline).to_contain_text("Store visit")
    expect(timeline.locator(".kind-response .contact-score")).to_contain_text("9")
    expect(timeline.locator(".kind-invitation")).to_contain_text("Responded")
    expect(timeline).not_to_contain_text("Looks automated")
    screenshot(page, "contact-timeline-after-answer-phone")
