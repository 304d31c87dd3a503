"""The survey builder and the response pages in a real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from feedback.models import Survey
from feedback.services import surveys as survey_services
from tests.feedback.factories import ContactFactory, ResponseFactory, SurveyFactory
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


def question_texts(survey: Survey) -> list[str]:
    return [q.text for q in survey_services.active_questions(survey)]


def test_a_manager_builds_a_survey_and_sees_the_preview_follow(
    page, live_server, login, manager_user, screenshot
):
    page.set_viewport_size(LAPTOP)
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/surveys/")
    page.get_by_role("button", name="New NPS survey").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Customer NPS")
    survey = Survey.objects.get()
    preview = page.frame_locator("iframe[name=survey-preview]")
    expect(preview.get_by_text("How likely are you to recommend us")).to_be_visible()

    add = page.locator("#add-question")
    add.get_by_label("Type").select_option("single_choice")
    expect(add.get_by_label("Label of the lowest score")).to_be_hidden()  # fits the type
    add.locator("#add-text").fill("Which store did you visit?")
    add.get_by_label("Choices").fill("Berlin\nMunich\nHamburg")
    add.get_by_role("button", name="Add question").click()
    items = page.locator("#question-list > li")
    expect(items).to_have_count(4)
    expect(items.nth(3)).to_contain_text("Which store did you visit?")
    expect(preview.get_by_role("radio", name="Munich")).to_be_visible()
    assert question_texts(survey)[-1] == "Which store did you visit?"

    page.get_by_role("button", name="Move “Which store did you visit?” up").click()
    expect(items.nth(2)).to_contain_text("Which store did you visit?")
    assert question_texts(survey)[2] == "Which store did you visit?"
    # The preview follows: the store question now comes before the last text question.
    expect(preview.locator("fieldset.q-single_choice + .q-text")).to_have_count(1)

    page.get_by_role("link", name="Edit “Which store did you visit?”").click()
    page.locator("#edit-text").fill("Which store was it?")
    page.get_by_role("button", name="Save question").click()
    expect(items.nth(2)).to_contain_text("Which store was it?")
    expect(preview.get_by_text("Which store was it?")).to_be_visible()
    screenshot(page, "survey-builder-laptop")
    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "survey-builder-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_questions_are_reordered_by_drag_and_drop(page, live_server, login, manager_user):
    page.set_viewport_size(LAPTOP)
    survey = SurveyFactory(organization=manager_user.memberships.get().organization)
    first, second = question_texts(survey)
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    items = page.locator("#question-list > li")
    # Sortable moves the item at once; the POST follows: wait for its answer.
    with page.expect_response(lambda r: r.url.endswith("/questions/order/")) as answer:
        items.nth(1).locator(".drag-handle").drag_to(
            items.nth(0), target_position={"x": 20, "y": 5}
        )
    assert answer.value.status == 200
    expect(items.nth(0)).to_contain_text(second)
    assert question_texts(survey) == [second, first]


def test_screenshots_of_the_survey_list_the_feed_and_a_response(
    page, live_server, login, manager_user, screenshot
):
    org = manager_user.memberships.get().organization
    touchpoint = TouchpointFactory(organization=org, name="Parcel delivery")
    nps = survey_services.survey_create_from_template(
        org=org, actor=survey_services.Actor(), kind="nps", status="active"
    )
    survey_services.survey_create_from_template(org=org, actor=survey_services.Actor(), kind="csat")
    people = ["Ana Souza", "Ben Okafor", "Chloé Martin", "Dieter Braun", "Eva Lindqvist"]
    comments = [
        "The jacket arrived a day early and fits perfectly. Great service!",
        "Checkout kept rejecting my card, I almost gave up.",
        "Fine overall, the parcel was a bit damaged.",
        "",
        "Support called me back within the hour, impressive.",
    ]
    last = None
    for name, score, comment, sentiment in zip(
        people,
        [10, 3, 7, 8, 9],
        comments,
        ["positive", "negative", "neutral", "", "positive"],
        strict=True,
    ):
        last = ResponseFactory(
            organization=org,
            survey=nps,
            contact=ContactFactory(organization=org, name=name),
            touchpoint=touchpoint,
            primary_score=score,
            comment=comment,
            sentiment_label=sentiment,
            sentiment={"positive": 0.8, "negative": -0.6, "neutral": 0.0}.get(sentiment),
        )
    ResponseFactory(
        organization=org,
        survey=nps,
        primary_score=0,
        comment="",
        flagged_automated=True,
        flag_reason="scanner user agent (barracuda)",
    )
    page.set_viewport_size(LAPTOP)
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/surveys/")
    screenshot(page, "survey-list-laptop")
    page.goto(f"{live_server.url}/responses/")
    expect(page.locator("#feed li")).to_have_count(5)  # the flagged one is listed apart
    screenshot(page, "response-feed-laptop")
    page.goto(f"{live_server.url}/responses/?show=flagged")
    expect(page.locator("#feed li")).to_have_count(1)
    page.goto(f"{live_server.url}/responses/")
    page.get_by_label("Category").select_option("detractor")
    expect(page.locator("#feed li")).to_have_count(1)  # the flagged 0 is not counted
    page.goto(f"{live_server.url}/responses/{last.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Eva Lindqvist")
    screenshot(page, "response-detail-laptop")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/responses/")
    screenshot(page, "response-feed-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_removing_a_question_asks_once(page, live_server, login, manager_user):
    page.set_viewport_size(LAPTOP)
    survey = SurveyFactory(organization=manager_user.memberships.get().organization)
    first, second = question_texts(survey)
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    dialogs: list[str] = []
    accept = False

    def answer(dialog) -> None:
        dialogs.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    items = page.locator("#question-list > li")
    remove = page.get_by_role("button", name=f"Remove “{second}”")
    remove.click()  # and cancel
    page.wait_for_timeout(500)  # a second dialog would have come by now
    assert dialogs == ["Remove this question?"]
    expect(items).to_have_count(2)
    assert question_texts(survey) == [first, second]

    dialogs.clear()
    accept = True
    with page.expect_response(lambda r: r.url.endswith("/remove/")) as removed:
        remove.click()
    assert removed.value.status == 200
    expect(items).to_have_count(1)
    page.wait_for_timeout(500)
    assert dialogs == ["Remove this question?"]
    assert question_texts(survey) == [first]


def test_a_viewer_sees_the_builder_without_edit_controls_or_errors(
    page, live_server, login, viewer_user
):
    page.set_viewport_size(LAPTOP)
    survey = SurveyFactory(organization=viewer_user.memberships.get().organization)
    first, _ = question_texts(survey)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, viewer_user.email)
    page.goto(f"{live_server.url}/surveys/{survey.pk}/")
    expect(page.locator("#question-list > li").first).to_contain_text(first)
    expect(page.get_by_role("link", name=f"Edit “{first}”")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Remove “{first}”")).to_have_count(0)
    expect(page.locator("#add-question")).to_have_count(0)
    expect(page.frame_locator("iframe[name=survey-preview]").get_by_text(first)).to_be_visible()
    question = survey.questions.get(text=first)
    opened = page.goto(f"{live_server.url}/surveys/{survey.pk}/questions/{question.pk}/")
    assert opened.status == 403
    expect(page.locator("form.question-form")).to_have_count(0)
    # The 403 status itself is logged by Chromium as a failed resource; nothing else.
    assert [e for e in errors if "403" not in e] == []


def test_the_survey_list_fits_a_phone_without_cutting_columns_off(
    page, live_server, login, manager_user, org, screenshot
):
    touchpoint = TouchpointFactory(organization=org, name="Checkout and delivery")
    for name in ("Employee pulse (eNPS)", "Customer satisfaction after support (CSAT)"):
        SurveyFactory(organization=org, name=name, title="How are we doing?", touchpoint=touchpoint)
    page.set_viewport_size({"width": 375, "height": 800})
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/surveys/")
    table = page.locator("#survey-table table")
    expect(table).to_be_visible()
    overflow = table.evaluate("t => t.parentElement.scrollWidth - t.parentElement.clientWidth")
    assert overflow <= 0, f"the table is {overflow} px wider than the screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # What a phone still shows for each survey: its name, status and responses.
    row = page.locator("#survey-table tbody tr").first
    expect(row.get_by_role("link")).to_be_visible()
    expect(row.locator("td").last).to_be_visible()
    screenshot(page, "survey-list-phone")
