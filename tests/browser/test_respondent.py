"""The respondent's page in a real Chromium: phone-sized, the one-click link, JavaScript
off, keyboard, German, and axe-core finding no accessibility violation."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feedback.models import Response
from tests.feedback.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 860}
# Headless Chromium says "HeadlessChrome", which the page rightly treats as a bot; a person's
# phone says this.
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Mobile Safari/537.36"
)


@pytest.fixture
def phone(browser):
    """A phone-sized page. CSP is bypassed only so that axe-core can be injected."""
    context = browser.new_context(
        viewport=PHONE, bypass_csp=True, has_touch=True, user_agent=PHONE_AGENT
    )
    yield context.new_page()
    context.close()


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
    ]


def test_a_one_click_score_is_recorded_at_once_then_the_rest_is_answered_on_a_phone(
    phone, live_server, screenshot
):
    invitation = InvitationFactory(sent_at=timezone.now() - timedelta(minutes=5))
    page = phone
    page.goto(f"{live_server.url}/s/{invitation.token}/9/")
    expect(page.get_by_role("heading", level=1)).to_have_text("How did we do?")
    score = page.get_by_role("radio", name="9")
    expect(score).to_be_checked()
    expect(page.locator("[data-oneclick-status]")).to_contain_text("your score is saved")
    response = wait_for(lambda: Response.objects.filter(invitation=invitation).first())
    assert (response.primary_score, response.category) == (9, "promoter")
    assert not response.completed
    assert not response.flagged_automated
    screenshot(page, "respondent-one-click-phone")

    page.get_by_label("What is the main reason for your score?").fill(
        "Quick delivery and the jacket fits perfectly."
    )
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/thanks/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
    screenshot(page, "respondent-thanks-phone")
    response.refresh_from_db()
    assert response.completed
    assert response.comment == "Quick delivery and the jacket fits perfectly."
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_with_javascript_off_the_person_confirms_the_score_and_sends_the_form(
    browser, live_server, screenshot
):
    invitation = InvitationFactory()
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, user_agent=PHONE_AGENT)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/s/{invitation.token}/3/")
        confirm = page.get_by_role("button", name="Confirm my score")
        expect(confirm).to_be_visible()
        assert not Response.objects.exists()  # the GET changed nothing
        screenshot(page, "respondent-no-js-phone")
        confirm.click()
        expect(page.get_by_text("your answer is saved")).to_be_visible()
        response = Response.objects.get(invitation=invitation)
        assert response.primary_score == 3
        expect(page.get_by_role("radio", name="3")).to_be_checked()
        page.get_by_label("What is the main reason for your score?").fill("Too slow.")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
        response.refresh_from_db()
        assert response.completed
        assert response.comment == "Too slow."
    finally:
        context.close()


def test_the_survey_is_answered_with_the_keyboard_alone(phone, live_server):
    invitation = InvitationFactory()
    page = phone
    page.goto(f"{live_server.url}/s/{invitation.token}/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the first score
    page.keyboard.press("ArrowRight")  # 0 → 1
    page.keyboard.press("ArrowRight")  # → 2
    expect(page.get_by_role("radio", name="2")).to_be_checked()
    focus_outline = page.evaluate(
        "() => getComputedStyle(document.activeElement.nextElementSibling).outlineStyle"
    )
    assert focus_outline == "solid"  # the focused score is visibly marked
    page.keyboard.press("Tab")
    page.keyboard.type("Keyboard only, and it worked.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/thanks/$"))
    response = Response.objects.get()
    assert (response.primary_score, response.completed) == (2, True)


def test_axe_core_finds_no_violation_on_the_respondent_pages(phone, live_server, screenshot):
    invitation = InvitationFactory()
    page = phone
    found = {}
    page.goto(f"{live_server.url}/s/{invitation.token}/")
    found["survey"] = axe_violations(page)
    page.get_by_role("button", name="Send").click()  # nothing answered: the errors
    expect(page.get_by_role("alert")).to_contain_text("Please check your answers")
    screenshot(page, "respondent-errors-phone")
    found["errors"] = axe_violations(page)
    page.get_by_role("radio", name="10").check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
    found["thanks"] = axe_violations(page)
    expired = InvitationFactory(expires_at=timezone.now() - timedelta(days=1))
    page.goto(f"{live_server.url}/s/{expired.token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    screenshot(page, "respondent-expired-phone")
    found["expired"] = axe_violations(page)
    page.goto(f"{live_server.url}/s/no-such-link/")
    found["unknown"] = axe_violations(page)
    assert found == {key: [] for key in found}, found


def test_the_page_on_a_laptop_and_in_german(browser, live_server, screenshot):
    survey = SurveyFactory(
        title="How was your delivery?",
        intro="Two quick questions. It takes less than a minute.",
        translations={"de": {"title": "Wie war Ihre Lieferung?", "intro": "Zwei kurze Fragen."}},
    )
    primary = survey.questions.get(is_primary=True)
    primary.translations = {
        "de": {
            "text": "Wie wahrscheinlich ist es, dass Sie uns weiterempfehlen?",
            "low_label": "Überhaupt nicht wahrscheinlich",
            "high_label": "Äußerst wahrscheinlich",
        }
    }
    primary.save()
    english = InvitationFactory(organization=survey.organization, survey=survey)
    german = InvitationFactory(
        organization=survey.organization, survey=survey, contact__locale="de"
    )
    context = browser.new_context(viewport=LAPTOP, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/s/{english.token}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("How was your delivery?")
        screenshot(page, "respondent-laptop")
        page.goto(f"{live_server.url}/s/{german.token}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Wie war Ihre Lieferung?")
        expect(page.get_by_role("button", name="Senden")).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "de"
        assert axe_violations(page) == []
        screenshot(page, "respondent-german-laptop")
    finally:
        context.close()


def test_the_error_page_keeps_the_score_chosen_and_the_off_scale_link_says_so(
    phone, live_server, screenshot
):
    invitation = InvitationFactory(sent_at=timezone.now() - timedelta(minutes=5))
    comment = invitation.survey.questions.get(type="text")
    comment.required = True
    comment.save()
    page = phone
    page.goto(f"{live_server.url}/s/{invitation.token}/11/")
    expect(page.get_by_role("status").filter(has_text="isn’t on the scale")).to_be_visible()
    expect(page.locator("input[type=radio]:checked")).to_have_count(0)
    screenshot(page, "respondent-off-scale-phone")
    page.get_by_role("radio", name="8").check()
    page.get_by_role("button", name="Send").click()  # the comment is required: the errors
    expect(page.get_by_role("alert")).to_contain_text("Please check your answers")
    expect(page.get_by_role("radio", name="8")).to_be_checked()
    expect(page.locator("input[type=radio]:checked")).to_have_count(1)
    screenshot(page, "respondent-errors-kept-phone")
    page.get_by_label(re.compile("What is the main reason")).fill("Friendly and fast.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
    response = Response.objects.get(invitation=invitation)
    assert (response.primary_score, response.completed) == (8, True)
