"""Responses: the recording service, the staff feed and the export (after-response work:
test_pipeline.py)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cxplatform.services import SYSTEM
from feedback.models import Answer, Question, Response
from feedback.services import responses as services
from feedback.services import surveys as survey_services
from feedback.tasks import responses as tasks
from feedback.views.responses import csv_cell
from tests.feedback.factories import (
    ContactFactory,
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("qtype", "raw", "expected"),
    [
        ("nps", "0", 0),
        ("nps", " 10 ", 10),
        ("nps", 7, 7),
        ("csat", ["4"], 4),
        ("ces", "7", 7),
        ("rating", "1", 1),
    ],
)
def test_scores_on_their_scale_are_accepted(org, qtype, raw, expected):
    question = QuestionFactory(organization=org, type=qtype)
    assert services.answer_clean(question, raw).number == expected


@pytest.mark.parametrize(
    ("qtype", "raw"),
    [
        ("nps", "11"),
        ("nps", -1),
        ("csat", "0"),
        ("csat", "6"),
        ("ces", "8"),
        ("nps", True),
        ("nps", 7.5),
        ("nps", {"x": 1}),
        ("nps", "seven"),
        ("nps", "9999999999"),
        ("nps", ["1", "2"]),
    ],
)
def test_scores_off_their_scale_or_malformed_are_refused(org, qtype, raw):
    question = QuestionFactory(organization=org, type=qtype)
    with pytest.raises(ValidationError):
        services.answer_clean(question, raw)


def test_choices_are_matched_to_the_canonical_option_in_any_language(org):
    question = QuestionFactory(
        organization=org,
        type="multi_choice",
        choices=["Price", "Speed"],
        translations={"de": {"choices": ["Preis", "Tempo"]}},
    )
    assert services.answer_clean(question, ["tempo", "PRICE"]).choices == ["Price", "Speed"]
    with pytest.raises(ValidationError):
        services.answer_clean(question, ["Colour"])


def test_text_is_trimmed_and_kept_under_its_limit(org):
    question = QuestionFactory(organization=org, type="text")
    assert services.answer_clean(question, "  fine \x00 ").text == "fine"
    assert services.answer_clean(question, "   ").empty
    with pytest.raises(ValidationError):
        services.answer_clean(question, "x" * 5001)


# ---------------------------------------------------------------------------- recording


def record(survey, raw, **kwargs):
    questions = list(survey_services.active_questions(survey))
    cleaned = services.answers_clean(questions, raw, require=False)
    actor = kwargs.pop("actor", None)
    data = services.ResponseInput(
        org=survey.organization,
        survey=survey,
        questions=questions,
        answers=cleaned,
        channel=kwargs.pop("channel", "api"),
        complete=kwargs.pop("complete", True),
        **kwargs,
    )
    return services.response_record(data, actor=actor)


def test_recording_sets_the_score_its_category_and_the_comment(org):
    survey = SurveyFactory(organization=org)
    primary = survey.questions.get(is_primary=True)
    comment = survey.questions.get(type="text")
    recorded = record(survey, {primary.pk: "5", comment.pk: "Too slow"})
    response = recorded.response
    assert recorded.created
    assert (response.primary_type, response.primary_score, response.category) == (
        "nps",
        5,
        "detractor",
    )
    assert response.comment == "Too slow"
    assert response.completed
    assert response.answers.get(question=primary).question_text == primary.text


def test_an_invitations_response_takes_its_contact_touchpoint_and_employee(org):
    from tests.factories import EmployeeFactory

    touchpoint = TouchpointFactory(organization=org)
    employee = EmployeeFactory(organization=org)
    invitation = InvitationFactory(organization=org, touchpoint=touchpoint, employee=employee)
    primary = invitation.survey.questions.get(is_primary=True)
    response = record(invitation.survey, {primary.pk: "9"}, invitation=invitation).response
    assert (response.contact, response.touchpoint, response.employee) == (
        invitation.contact,
        touchpoint,
        employee,
    )


def test_a_second_record_of_an_invitation_adds_to_the_same_response(org):
    invitation = InvitationFactory(organization=org)
    primary = invitation.survey.questions.get(is_primary=True)
    comment = invitation.survey.questions.get(type="text")
    first = record(invitation.survey, {primary.pk: "9"}, invitation=invitation, complete=False)
    second = record(invitation.survey, {comment.pk: "Lovely"}, invitation=invitation, complete=True)
    assert first.response.pk == second.response.pk
    assert not second.created
    assert second.completed_now
    assert Response.objects.get().comment == "Lovely"
    third = record(invitation.survey, {primary.pk: "1"}, invitation=invitation)
    assert third.already_completed
    assert Response.objects.get().primary_score == 9


def test_a_repeated_external_ref_returns_the_first_response(org):
    survey = SurveyFactory(organization=org)
    first = services.response_record_external(
        org=org, actor=SYSTEM, survey=survey, score=8, external_ref="call-1"
    )
    again = services.response_record_external(
        org=org, actor=SYSTEM, survey=survey, score=2, external_ref="call-1"
    )
    assert first.created
    assert not again.created
    assert again.response.pk == first.response.pk
    assert Response.objects.get().primary_score == 8


# ---------------------------------------------------------------------------- the feed


def test_the_feed_lists_completed_responses_with_their_scores(
    viewer, org, django_assert_max_num_queries
):
    for score in (10, 7, 2):
        ResponseFactory(organization=org, primary_score=score, comment=f"Comment {score}")
    ResponseFactory(organization=org, completed=False, submitted_at=None, comment="Half")
    with django_assert_max_num_queries(10):
        page = viewer.get(reverse("feedback:response_list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Comment 10" in html
    assert "Comment 2" in html
    assert "cat-detractor" in html
    assert "Half" not in html


def test_the_feed_filters_by_category_survey_touchpoint_and_text_with_htmx(manager, org):
    touchpoint = TouchpointFactory(organization=org, name="Checkout")
    survey = SurveyFactory(organization=org)
    ResponseFactory(
        organization=org,
        survey=survey,
        primary_score=3,
        comment="Card declined",
        touchpoint=touchpoint,
    )
    ResponseFactory(organization=org, primary_score=10, comment="Loved it")
    url = reverse("feedback:response_list")
    detractors = manager.get(url, {"category": "detractor"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in detractors.content
    assert b"Card declined" in detractors.content
    assert b"Loved it" not in detractors.content
    for params in ({"survey": survey.pk}, {"touchpoint": touchpoint.pk}, {"q": "declined"}):
        content = manager.get(url, params).content
        assert b"Card declined" in content
        assert b"Loved it" not in content
    assert b"No response matches" in manager.get(url, {"q": "nothing like this"}).content


def test_flagged_responses_are_marked_and_can_be_listed(manager, org):
    ResponseFactory(
        organization=org,
        flagged_automated=True,
        flag_reason="scanner user agent (bot)",
        comment="Bot",
    )
    page = manager.get(reverse("feedback:response_list"))
    assert b"Bot" not in page.content  # the default feed is what the figures count
    assert Response.objects.counted().count() == 0
    flagged = manager.get(reverse("feedback:response_list"), {"show": "flagged"})
    assert b"Bot" in flagged.content
    assert b"Flagged as automated" in flagged.content


def test_the_response_page_shows_every_answer_and_links_the_contact(viewer, org):
    response = ResponseFactory(organization=org, primary_score=6, comment="Meh")
    page = viewer.get(reverse("feedback:response_detail", args=[response.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "How likely are you to recommend us" in html
    assert response.contact.email in html
    assert "Detractor" in html


def test_another_organizations_response_is_a_404(outsider, org):
    response = ResponseFactory(organization=org)
    assert outsider.get(reverse("feedback:response_detail", args=[response.pk])).status_code == 404


# ---------------------------------------------------------------------------- export


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        (-0.5, -0.5),
        (7, 7),
        (None, ""),
        (True, "yes"),
    ],
)
def test_csv_cells_never_start_like_a_formula(value, expected):
    assert csv_cell(value) == expected


def test_the_export_streams_the_filtered_feed_with_every_cell_escaped(manager, org):
    contact = ContactFactory(organization=org, name="=cmd|' /C calc'!A0", email="x@example.com")
    ResponseFactory(organization=org, contact=contact, primary_score=1, comment="@SUM(1+1)*cmd")
    ResponseFactory(organization=org, primary_score=10, comment="-fine")
    ResponseFactory(organization=org, primary_score=9, comment="Not in the filter")
    result = manager.get(
        reverse("feedback:response_export"), {"score": "", "category": "detractor"}
    )
    assert result.status_code == 200
    assert result.streaming
    assert result["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(result.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["id", "submitted_at", "survey", "contact_email"]
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["contact_name"] == "'=cmd|' /C calc'!A0"
    assert row["comment"] == "'@SUM(1+1)*cmd"
    assert row["score"] == "1"
    everything = manager.get(reverse("feedback:response_export"))
    text = b"".join(everything.streaming_content).decode()
    assert "'-fine" in text
    for line in csv.reader(io.StringIO(text)):
        for cell in line:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell


def test_the_export_of_another_organization_has_none_of_our_rows(outsider, org):
    ResponseFactory(organization=org, comment="Secret comment")
    result = outsider.get(reverse("feedback:response_export"))
    assert b"Secret comment" not in b"".join(result.streaming_content)


def test_a_question_with_answers_survives_its_survey_changing(org):
    response = ResponseFactory(organization=org, primary_score=9)
    question = Question.objects.get(answers__response=response)
    assert question.answers.count() == 1


def test_the_periodic_sweep_is_scheduled_and_completes_abandoned_scores(org, time_machine):
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["responses-sweep"]
    assert entry["task"] == tasks.responses_sweep.name
    time_machine.move_to(timezone.now(), tick=False)
    partial = ResponseFactory(organization=org, completed=False, submitted_at=None, comment="")
    time_machine.shift(settings.CX_PARTIAL_COMPLETE_AFTER + timedelta(minutes=1))
    tasks.responses_sweep()
    partial.refresh_from_db()
    assert partial.completed
    assert partial.submitted_at is not None


def test_the_feed_can_show_one_contacts_responses(manager, org, other_org):
    ann = ContactFactory(organization=org, name="Ann Example")
    ResponseFactory(organization=org, contact=ann, comment="Ann's words")
    ResponseFactory(organization=org, comment="Someone else")
    page = manager.get(reverse("feedback:response_list"), {"channel": "email", "contact": ann.pk})
    assert b"Ann's words" in page.content or b"Ann&#x27;s words" in page.content
    assert b"Someone else" not in page.content
    assert b"Only Ann Example" in page.content
    show_everyone = page.content.decode().split("Only Ann Example")[1].split('href="')[1]
    assert show_everyone.startswith("?channel=email")  # the other filters stay, once
    stranger = ContactFactory(organization=other_org)
    page = manager.get(reverse("feedback:response_list"), {"contact": stranger.pk})
    assert page.status_code == 200  # an invalid filter, not another organization's rows


def test_the_feed_and_its_export_until_the_last_date_there_is_are_not_a_500(manager, org):
    ResponseFactory(organization=org, comment="late")
    for name in ("feedback:response_list", "feedback:response_export"):
        page = manager.get(reverse(name), {"since": "0001-01-01", "until": "9999-12-31"})
        assert page.status_code == 200
        body = b"".join(page.streaming_content) if page.streaming else page.content
        assert b"late" in body


def _answer(response, question, **value):
    return Answer.objects.create(
        organization=response.organization,
        response=response,
        question=question,
        question_text=question.text,
        question_type=question.type,
        **value,
    )


def test_the_export_has_one_column_per_question_each_answer_in_its_own_cell(manager, org):
    nps = SurveyFactory(organization=org, name="Checkout NPS")
    reason = QuestionFactory(
        organization=org, survey=nps, type="text", text="What is the main reason?"
    )
    csat = SurveyFactory(organization=org, name="Support CSAT", kind="csat", questions=False)
    rating = QuestionFactory(
        organization=org, survey=csat, type="csat", text="How satisfied?", is_primary=True
    )
    topics = QuestionFactory(
        organization=org,
        survey=csat,
        type="multi_choice",
        text="What was it about?",
        choices=["Billing", "Delivery"],
    )
    first = ResponseFactory(organization=org, survey=nps, primary_score=3)
    _answer(first, reason, value_text='=HYPERLINK("http://evil")')
    second = ResponseFactory(organization=org, survey=csat, primary_type="csat", primary_score=None)
    _answer(second, rating, value_number=4)
    _answer(second, topics, value_choices=["Billing", "Delivery"])

    result = manager.get(reverse("feedback:response_export"))
    rows = list(csv.reader(io.StringIO(b"".join(result.streaming_content).decode())))
    header = rows[0]
    assert "answers" not in header
    nps_primary = nps.questions.get(is_primary=True)
    columns = [
        f"Checkout NPS: {nps_primary.text}",
        "Checkout NPS: What is the main reason?",
        "Support CSAT: How satisfied?",
        "Support CSAT: What was it about?",
    ]
    assert header[-4:] == columns
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_id[str(first.pk)][columns[0]] == "3"
    assert by_id[str(first.pk)][columns[1]] == '\'=HYPERLINK("http://evil")'
    assert by_id[str(first.pk)][columns[2]] == ""
    assert by_id[str(second.pk)][columns[2]] == "4"
    assert by_id[str(second.pk)][columns[3]] == "Billing, Delivery"
    assert by_id[str(second.pk)][columns[0]] == ""


def test_the_export_of_one_survey_names_its_columns_by_the_questions_alone(manager, org):
    survey = SurveyFactory(organization=org, name="Checkout NPS")
    ResponseFactory(organization=org, survey=survey, primary_score=8)
    result = manager.get(reverse("feedback:response_export"), {"survey": survey.pk})
    header = next(csv.reader(io.StringIO(b"".join(result.streaming_content).decode())))
    assert header[-1] == survey.questions.get(is_primary=True).text
