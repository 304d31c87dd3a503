"""The core's pages in a real Chromium: the API docs render under the CSP, a new member
is invited through the demo mailbox and signs in, a settings form shows its error, and
reading a survey email in the demo mailbox does not count as the customer opening it.
Screenshots on a laptop and a phone go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cxplatform.models import Membership
from feedback.models import Invitation, InvitationStatus
from feedback.services import email as email_render
from tests.feedback.factories import InvitationFactory

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 850}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_mailbox(settings, live_server):
    """Email goes to the demo mailbox and its links point at this server, as in the demo."""
    settings.MAILERS = {"default": {"BACKEND": "cxplatform.mail.MailboxBackend"}}
    settings.SITE_URL = live_server.url


def _watch_csp(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return violations


def test_the_api_docs_render_every_operation_under_the_csp(page, live_server, screenshot):
    violations = _watch_csp(page)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_role("heading", name=re.compile("CX Platform API"))).to_be_visible()
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/teams/").first).to_be_visible()
    screenshot(page, "api-docs-laptop")
    page.set_viewport_size(PHONE)
    screenshot(page, "api-docs-phone")
    assert violations == []


def test_a_new_member_is_invited_through_the_mailbox_and_signs_in(
    page, live_server, login, admin_user_, org, demo_mailbox, browser, screenshot
):
    page.set_viewport_size(LAPTOP)
    login(page, admin_user_.email)
    page.goto(f"{live_server.url}/settings/members/")
    form = page.locator("#member-form")
    form.get_by_label("Email").fill("nina@acme.example")
    form.get_by_label("Name").fill("Nina New")
    form.get_by_label("Role").select_option("agent")
    form.get_by_role("button", name="Save member").click()
    row = page.locator("#members li", has_text="nina@acme.example")
    expect(row).to_contain_text("Invited")
    expect(page.get_by_text("We emailed them a link to choose their password.")).to_be_visible()
    screenshot(page, "members-after-invite-laptop")

    # Nina, in her own browser, reads the invitation in the demo mailbox and follows it.
    nina = browser.new_context(viewport=PHONE).new_page()
    login(nina, admin_user_.email)  # the mailbox is a staff page of the demo
    nina.goto(f"{live_server.url}/mailbox/?q=nina@acme.example")
    nina.get_by_role("link", name=re.compile("You are invited to Acme")).click()
    # A text-only email: its plain-text part is shown open.
    link = nina.locator("pre a", has_text="/accounts/password-reset/").first
    href = link.get_attribute("href")
    nina.context.clear_cookies()  # she is not signed in as anybody
    nina.goto(href)
    expect(nina.get_by_role("heading", name="Choose your password")).to_be_visible()
    screenshot(nina, "invitation-choose-password-phone")
    nina.locator("#id_new_password1").fill("a-long-new-passphrase")
    nina.get_by_label("New password confirmation").fill("a-long-new-passphrase")
    nina.get_by_role("button", name="Save the password").click()
    expect(nina.get_by_role("heading", name="Your password is saved")).to_be_visible()
    nina.get_by_role("link", name="Continue").click()
    expect(nina.get_by_role("heading", level=1)).to_contain_text("Good to see you, Nina")
    assert Membership.objects.get(user__email="nina@acme.example").user.has_usable_password()


def test_a_taken_team_name_shows_its_error_in_the_form(
    page, live_server, login, admin_user_, org, screenshot
):
    from tests.factories import TeamFactory

    TeamFactory(organization=org, name="Care")
    for size, name in [(LAPTOP, "laptop"), (PHONE, "phone")]:
        page.set_viewport_size(size)
        login(page, admin_user_.email)
        page.goto(f"{live_server.url}/settings/teams/")
        form = page.locator("#team-form")
        form.get_by_label("Name").fill("care")
        form.get_by_role("button", name="Create team").click()
        expect(form.get_by_text("A team with this name already exists.")).to_be_visible()
        expect(page.locator("#team-form").get_by_label("Name")).to_have_class(
            re.compile(r"\bis-invalid\b")
        )
        expect(page.locator("#team-form").get_by_label("Name")).to_have_value("care")
        screenshot(page, f"settings-team-error-{name}")
        # Corrected, it saves, and the form is empty again.
        page.locator("#team-form").get_by_label("Name").fill("Billing")
        page.locator("#team-form").get_by_role("button", name="Create team").click()
        expect(page.locator("#teams")).to_contain_text("Billing")
        expect(page.locator("#team-form").get_by_label("Name")).to_have_value("")
        org.teams.filter(name="Billing").delete()
        page.context.clear_cookies()


def test_reading_a_survey_email_in_the_mailbox_does_not_mark_it_opened(
    page, live_server, login, manager_user, org, demo_mailbox, screenshot
):
    invitation = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    email_render.render_invitation(invitation).message().send()
    small_phone = {"width": 320, "height": 640}
    for size, name in [(LAPTOP, "laptop"), (PHONE, "phone"), (small_phone, "small-phone")]:
        page.set_viewport_size(size)
        login(page, manager_user.email)
        page.goto(f"{live_server.url}/mailbox/")
        screenshot(page, f"mailbox-{name}")
        page.locator("#messages-table a.list-group-item").first.click()
        frame = page.frame_locator("iframe.mail-frame")
        expect(frame.get_by_role("link", name="Unsubscribe from surveys")).to_be_visible()
        page.wait_for_load_state("networkidle")
        # The email fits the frame's width, and the frame the email's height.
        fits = page.locator("iframe.mail-frame").evaluate(
            "f => { const d = f.contentDocument.documentElement;"
            " return [d.scrollWidth <= d.clientWidth, d.scrollHeight <= f.clientHeight + 1]; }"
        )
        assert fits == [True, True], name
        screenshot(page, f"mailbox-message-{name}")
        page.context.clear_cookies()
    invitation = Invitation.objects.get(pk=invitation.pk)
    assert invitation.opened_at is None
    assert invitation.status == InvitationStatus.SENT

    # The customer's mail client, which does load the pixel, does mark it.
    page.goto(f"{live_server.url}/o/{invitation.token}.gif")
    assert Invitation.objects.get(pk=invitation.pk).opened_at is not None


def test_an_empty_search_in_the_mailbox_says_nothing_matches(
    page, live_server, login, manager_user, demo_mailbox, screenshot
):
    page.set_viewport_size(PHONE)
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/mailbox/")
    page.get_by_label("Search recipient or subject").fill("nobody@nowhere.example")
    expect(
        page.get_by_role("heading", name="No messages match “nobody@nowhere.example”")
    ).to_be_visible()
    screenshot(page, "mailbox-empty-search-phone")
