"""Surveys: templates, the primary-question rule, question history, and the builder pages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cxplatform.models import AuditEvent
from cxplatform.services import SYSTEM
from feedback.models import Question, Survey
from feedback.services import surveys as services
from tests.feedback.factories import QuestionFactory, ResponseFactory, SurveyFactory
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


def active(survey):
    return list(services.active_questions(survey))


# ---------------------------------------------------------------------------- services


@pytest.mark.parametrize(
    ("kind", "primary_type"),
    [("nps", "nps"), ("csat", "csat"), ("ces", "ces"), ("enps", "nps"), ("custom", "rating")],
)
def test_every_template_makes_a_survey_with_one_primary_question_of_its_kind(
    org, kind, primary_type
):
    survey = services.survey_create_from_template(org=org, actor=SYSTEM, kind=kind)
    questions = active(survey)
    primaries = [q for q in questions if q.is_primary]
    assert len(primaries) == 1
    assert primaries[0].type == primary_type
    assert primaries[0].position == 0
    assert [q.position for q in questions] == list(range(len(questions)))
    assert survey.status == "draft"
    assert AuditEvent.objects.filter(action="survey.created", object_id=str(survey.pk)).exists()


# "one" / "eine" left out: "one thing", "eine Minute".
NUMBER_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
}


@pytest.mark.parametrize("kind", ["nps", "csat", "ces", "enps", "custom"])
def test_a_template_that_counts_its_questions_counts_them_right(org, kind):
    survey = services.survey_create_from_template(org=org, actor=SYSTEM, kind=kind)
    count = len(active(survey))
    intros = [survey.intro, *(t.get("intro", "") for t in survey.translations.values())]
    for intro in intros:
        for word in intro.lower().replace(".", " ").split():
            if word in NUMBER_WORDS:
                assert NUMBER_WORDS[word] == count, f"{intro!r} for {count} questions"


def test_the_nps_template_speaks_german_too(org):
    survey = services.survey_create_from_template(org=org, actor=SYSTEM, kind="nps")
    assert survey.translations["de"]["title"] == "Wie machen wir uns?"
    assert "empfehlen" in active(survey)[0].translations["de"]["text"]


def test_a_scored_survey_needs_exactly_one_primary_question_of_its_type(org):
    text = {"type": "text", "text": "Why?"}
    with pytest.raises(ValidationError, match="needs one primary"):
        services.survey_create(org=org, actor=SYSTEM, name="x", kind="nps", questions=[text])
    with pytest.raises(ValidationError, match="must be of type"):
        services.survey_create(
            org=org,
            actor=SYSTEM,
            name="x",
            kind="nps",
            questions=[{"type": "csat", "text": "Happy?", "is_primary": True}],
        )
    two = [{"type": "nps", "text": f"Q{i}", "is_primary": True} for i in range(2)]
    with pytest.raises(ValidationError, match="Only one question"):
        services.survey_create(org=org, actor=SYSTEM, name="x", kind="nps", questions=two)
    assert not Survey.objects.exists()


def test_choice_questions_need_two_distinct_choices_and_text_cannot_be_primary(org):
    survey = SurveyFactory(organization=org)
    with pytest.raises(ValidationError) as caught:
        services.question_add(
            survey=survey,
            actor=SYSTEM,
            data={"type": "single_choice", "text": "Pick", "choices": ["A"]},
        )
    assert "at least two choices" in str(caught.value)
    with pytest.raises(ValidationError, match="different"):
        services.question_add(
            survey=survey,
            actor=SYSTEM,
            data={"type": "multi_choice", "text": "Pick", "choices": ["A", "a"]},
        )
    with pytest.raises(ValidationError, match="Only a scored question"):
        services.question_add(
            survey=survey, actor=SYSTEM, data={"type": "text", "text": "Why?", "is_primary": True}
        )


def test_adding_a_primary_question_moves_the_flag(org):
    survey = SurveyFactory(organization=org)
    old = survey.questions.get(is_primary=True)
    new = services.question_add(
        survey=survey,
        actor=SYSTEM,
        data={"type": "nps", "text": "Would you recommend our app?", "is_primary": True},
        position=0,
    )
    old.refresh_from_db()
    assert new.is_primary
    assert not old.is_primary
    assert next(q.pk for q in active(survey)) == new.pk


def test_editing_the_wording_of_a_question_with_answers_changes_it_in_place(org):
    response = ResponseFactory(organization=org, primary_score=9)
    question = response.survey.questions.get(is_primary=True)
    saved = services.question_update(
        question=question, data={"text": "How likely are you to recommend Acme?"}, actor=SYSTEM
    )
    assert saved.pk == question.pk
    answer = response.answers.get()
    assert answer.question_text.startswith("How likely are you to recommend us")  # the snapshot


def test_changing_the_type_of_a_question_with_answers_archives_it_and_makes_a_new_one(org):
    response = ResponseFactory(organization=org, primary_score=9)
    survey = response.survey
    choice = QuestionFactory(
        organization=org, survey=survey, type="single_choice", choices=["Yes", "No"], position=2
    )
    from feedback.models import Answer

    Answer.objects.create(
        organization=org,
        response=response,
        question=choice,
        question_text=choice.text,
        question_type=choice.type,
        value_choices=["Yes"],
    )
    saved = services.question_update(
        question=choice, data={"choices": ["Yes", "No", "Not sure"]}, actor=SYSTEM
    )
    choice.refresh_from_db()
    assert saved.pk != choice.pk
    assert choice.archived_at is not None
    assert saved.position == choice.position
    assert Answer.objects.get(question=choice).value_choices == ["Yes"]  # the past is intact
    assert saved in active(survey)
    assert choice not in active(survey)


def test_removing_a_question_deletes_it_without_answers_and_archives_it_with_answers(org):
    response = ResponseFactory(organization=org, primary_score=3)
    survey = response.survey
    primary = survey.questions.get(is_primary=True)
    comment = survey.questions.get(type="text")
    services.question_remove(question=comment, actor=SYSTEM)
    assert not Question.objects.filter(pk=comment.pk).exists()
    services.question_remove(question=primary, actor=SYSTEM)
    primary.refresh_from_db()
    assert primary.archived_at is not None
    assert response.answers.count() == 1
    assert active(survey) == []


def test_reordering_keeps_positions_dense_and_ignores_foreign_ids(org, other_org):
    survey = SurveyFactory(organization=org)
    extra = QuestionFactory(organization=org, survey=survey, type="rating")
    stranger = QuestionFactory(organization=other_org)
    first, second = survey.questions.filter(pk__lt=extra.pk).order_by("position")
    services.questions_reorder(survey=survey, order=[extra.pk, stranger.pk, first.pk], actor=SYSTEM)
    assert [q.pk for q in active(survey)] == [extra.pk, first.pk, second.pk]
    assert [q.position for q in active(survey)] == [0, 1, 2]
    stranger.refresh_from_db()
    assert stranger.survey.organization == other_org


def test_a_survey_can_be_attached_to_a_touchpoint_of_its_own_organization_only(org, other_org):
    survey = SurveyFactory(organization=org)
    mine = TouchpointFactory(organization=org)
    services.survey_update(survey=survey, data={"touchpoint": mine}, actor=SYSTEM)
    assert Survey.objects.get().touchpoint == mine
    with pytest.raises(ValidationError):
        services.survey_update(
            survey=survey,
            data={"touchpoint": TouchpointFactory(organization=other_org)},
            actor=SYSTEM,
        )


# ---------------------------------------------------------------------------- pages


def test_the_survey_list_shows_the_templates_and_the_surveys(
    manager, org, django_assert_max_num_queries
):
    for _ in range(3):
        SurveyFactory(organization=org)
    with django_assert_max_num_queries(8):
        page = manager.get(reverse("feedback:survey_list"))
    assert page.status_code == 200
    assert b"New NPS survey" in page.content
    assert page.content.count(b"/surveys/") >= 3


def test_a_viewer_sees_surveys_but_no_templates(viewer, org):
    SurveyFactory(organization=org, name="Store CSAT")
    page = viewer.get(reverse("feedback:survey_list"))
    assert b"Store CSAT" in page.content
    assert b"New NPS survey" not in page.content
    assert viewer.post(reverse("feedback:survey_create"), {"kind": "nps"}).status_code == 403


def test_a_manager_creates_a_survey_from_a_template_and_lands_in_the_builder(manager, org):
    result = manager.post(reverse("feedback:survey_create"), {"kind": "csat"})
    survey = Survey.objects.get()
    assert result["Location"] == reverse("feedback:survey_detail", args=[survey.pk])
    page = manager.get(result["Location"])
    assert b"Overall, how satisfied were you" in page.content
    assert b"Live preview" in page.content


def test_the_builder_adds_a_question_with_htmx_and_returns_the_workspace(manager, org):
    survey = SurveyFactory(organization=org)
    result = manager.post(
        reverse("feedback:survey_question_add", args=[survey.pk]),
        {"type": "single_choice", "text": "Which store?", "choices": "Berlin\nMunich"},
        HTTP_HX_REQUEST="true",
    )
    assert result.status_code == 200
    assert b'id="workspace"' in result.content
    assert b"<html" not in result.content
    assert b"Which store?" in result.content
    question = survey.questions.get(text="Which store?")
    assert question.choices == ["Berlin", "Munich"]
    assert question.position == 2


def test_an_invalid_question_comes_back_with_its_error(manager, org):
    survey = SurveyFactory(organization=org)
    result = manager.post(
        reverse("feedback:survey_question_add", args=[survey.pk]),
        {"type": "multi_choice", "text": "Pick"},
        HTTP_HX_REQUEST="true",
    )
    assert result.status_code == 422
    assert b"at least two choices" in result.content


def test_the_builder_edits_moves_and_removes_questions(manager, org):
    survey = SurveyFactory(organization=org)
    primary, comment = survey.questions.order_by("position")
    edit_url = reverse("feedback:survey_question_edit", args=[survey.pk, comment.pk])
    form = manager.get(edit_url, HTTP_HX_REQUEST="true")
    assert b"Save question" in form.content
    manager.post(edit_url, {"type": "text", "text": "Tell us more"}, HTTP_HX_REQUEST="true")
    comment.refresh_from_db()
    assert comment.text == "Tell us more"
    manager.post(
        reverse("feedback:survey_question_move", args=[survey.pk, comment.pk]),
        {"direction": "up"},
    )
    assert [q.pk for q in active(survey)] == [comment.pk, primary.pk]
    manager.post(
        reverse("feedback:survey_questions_reorder", args=[survey.pk]),
        {"order": [primary.pk, comment.pk]},
        HTTP_HX_REQUEST="true",
    )
    assert [q.pk for q in active(survey)] == [primary.pk, comment.pk]
    result = manager.post(reverse("feedback:survey_question_remove", args=[survey.pk, comment.pk]))
    assert result.status_code == 302
    assert [q.pk for q in active(survey)] == [primary.pk]


def test_the_builder_saves_the_surveys_settings(manager, org):
    survey = SurveyFactory(organization=org, status="draft")
    touchpoint = TouchpointFactory(organization=org)
    result = manager.post(
        reverse("feedback:survey_detail", args=[survey.pk]),
        {
            "name": "Delivery NPS",
            "status": "active",
            "touchpoint": touchpoint.pk,
            "title": "How was your delivery?",
            "intro": "",
            "thank_you": "Thanks!",
            "default_locale": "en",
        },
    )
    assert result.status_code == 302
    survey.refresh_from_db()
    assert (survey.name, survey.status, survey.touchpoint) == ("Delivery NPS", "active", touchpoint)


def test_viewers_cannot_change_a_survey(viewer, org):
    survey = SurveyFactory(organization=org)
    question = survey.questions.first()
    assert viewer.get(reverse("feedback:survey_detail", args=[survey.pk])).status_code == 200
    for url, data in [
        (reverse("feedback:survey_question_add", args=[survey.pk]), {"type": "text", "text": "x"}),
        (reverse("feedback:survey_question_remove", args=[survey.pk, question.pk]), {}),
        (
            reverse("feedback:survey_question_edit", args=[survey.pk, question.pk]),
            {"type": "text", "text": "x"},
        ),
        (reverse("feedback:survey_detail", args=[survey.pk]), {"name": "x"}),
    ]:
        assert viewer.post(url, data).status_code == 403
    assert survey.questions.count() == 2


def test_a_viewer_sees_no_edit_controls_and_cannot_open_a_question_form(viewer, manager, org):
    survey = SurveyFactory(organization=org)
    question = survey.questions.first()
    edit = reverse("feedback:survey_question_edit", args=[survey.pk, question.pk])
    page = viewer.get(reverse("feedback:survey_detail", args=[survey.pk])).content.decode()
    assert edit not in page
    assert "Add a question" not in page
    assert "Save settings" not in page
    assert viewer.get(edit).status_code == 403
    assert viewer.get(edit, HTTP_HX_REQUEST="true").status_code == 403
    opened = manager.get(edit)
    assert opened.status_code == 200
    assert b"Save question" in opened.content


def test_another_organizations_survey_is_a_404(outsider, org):
    survey = SurveyFactory(organization=org)
    assert outsider.get(reverse("feedback:survey_detail", args=[survey.pk])).status_code == 404
    assert outsider.get(reverse("feedback:survey_preview", args=[survey.pk])).status_code == 404


def test_the_preview_renders_the_respondents_page_in_a_chosen_language(manager, org):
    survey = services.survey_create_from_template(org=org, actor=SYSTEM, kind="nps")
    page = manager.get(reverse("feedback:survey_preview", args=[survey.pk]) + "?lang=de")
    assert page.status_code == 200
    assert "Wie wahrscheinlich ist es" in page.content.decode()
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "SAMEORIGIN"
    assert b"respondent.js" not in page.content  # a preview saves nothing


def test_the_builder_offers_only_touchpoints_of_active_journeys_but_keeps_the_current_one(
    manager, org
):
    from journeys import services as journey_services

    live = TouchpointFactory(organization=org, name="Checkout")
    retired = TouchpointFactory(organization=org, name="Catalogue request")
    other_retired = TouchpointFactory(organization=org, name="Fax order line")
    journey_services.journey_archive(journey=retired.stage.journey, actor=SYSTEM)
    journey_services.journey_archive(journey=other_retired.stage.journey, actor=SYSTEM)
    fresh = SurveyFactory(organization=org)
    attached = SurveyFactory(organization=org, touchpoint=retired)

    offered = manager.get(reverse("feedback:survey_detail", args=[fresh.pk])).context["survey_form"]
    kept = manager.get(reverse("feedback:survey_detail", args=[attached.pk])).context["survey_form"]

    assert list(offered.fields["touchpoint"].queryset) == [live]
    assert set(kept.fields["touchpoint"].queryset) == {live, retired}
