"""The demo's responses read true: each comment answers its survey's question and fits the
score it comes with."""

from __future__ import annotations

import io

import pytest

from feedback.demo import contacts as demo_contacts
from feedback.demo import responses as demo_responses
from feedback.demo import surveys as demo_surveys
from feedback.models import Answer, Survey
from tests.factories import TeamFactory
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db

MOODS = ("good", "meh", "bad")


@pytest.fixture
def seeded(org, mailoutbox, django_capture_on_commit_callbacks):
    team = TeamFactory(organization=org, name="Customer Care")
    TouchpointFactory(organization=org, name="Phone hotline", component="service", owner_team=team)
    TouchpointFactory(organization=org, name="Returns", component="technology")
    TouchpointFactory(organization=org, name="Parcel delivery", moment_of_truth=True)
    demo_surveys.seed(org=org)
    demo_contacts.seed(org=org, quick=True)
    with django_capture_on_commit_callbacks(execute=True):
        demo_responses.seed(org=org, stdout=io.StringIO(), quick=True)
    return org


def pool_of(text: str) -> set[tuple[str, int, str]]:
    """Where a comment comes from: {(kind, text question index, mood)}."""
    return {
        (kind, index, mood)
        for comments in (demo_responses.COMMENTS_EN, demo_responses.COMMENTS_DE)
        for kind, pools in comments.items()
        for index, pool in enumerate(pools)
        for mood in MOODS
        if text in pool[mood]
    }


def test_every_demo_comment_answers_its_question_and_fits_its_score(seeded):
    answers = list(
        Answer.objects.filter(response__organization=seeded, question__type="text")
        .exclude(value_text="")
        .select_related("response__survey", "question")
    )
    assert len(answers) > 100
    seen = set()
    for answer in answers:
        survey = answer.response.survey
        texts = [q.pk for q in survey.questions.filter(type="text").order_by("position", "id")]
        mood = demo_responses._mood(answer.response.category)
        where = (survey.kind, texts.index(answer.question_id), mood)
        assert where in pool_of(answer.value_text), (
            f"{answer.value_text!r} on “{answer.question.text}” "
            f"({survey.kind}, score {answer.response.primary_score})"
        )
        seen.add(where[0])
    assert seen == {"nps", "csat", "ces", "custom"}


def test_low_scores_complain_and_high_scores_praise(seeded):
    comments = {
        category: set(
            Answer.objects.filter(
                response__organization=seeded,
                response__category=category,
                question__type="text",
            )
            .exclude(value_text="")
            .values_list("value_text", flat=True)
        )
        for category in ("detractor", "promoter", "dissatisfied", "satisfied")
    }
    assert "My parcel arrived two weeks late and nobody told me why." not in comments["promoter"]
    for low, high in (("detractor", "promoter"), ("dissatisfied", "satisfied")):
        assert comments[low]
        assert comments[high]
        assert not comments[low] & comments[high]
        assert all(("bad" in {m for _, _, m in pool_of(t)}) for t in comments[low])
        assert all(("good" in {m for _, _, m in pool_of(t)}) for t in comments[high])


def test_choice_answers_fit_the_score_too(seeded):
    resolved = Answer.objects.filter(
        response__organization=seeded, question__text="Was your question resolved?"
    )
    assert resolved.exists()
    assert not resolved.filter(response__category="satisfied", value_choices=["No"]).exists()
    assert not resolved.filter(
        response__category="dissatisfied", value_choices=["Yes, completely"]
    ).exists()
    effort = Answer.objects.filter(
        response__organization=seeded, question__text="What took the most effort?"
    )
    assert effort.exists()
    for answer in effort.select_related("response"):
        easy = "Nothing, it was easy" in answer.value_choices
        assert easy == (answer.response.category == "low_effort"), answer.value_choices


def test_german_comments_only_where_the_survey_speaks_german(seeded):
    german = {
        t
        for pools in demo_responses.COMMENTS_DE.values()
        for p in pools
        for m in p.values()
        for t in m
    }
    for survey in Survey.objects.for_org(seeded):
        texts = set(
            Answer.objects.filter(response__survey=survey).values_list("value_text", flat=True)
        )
        if "de" not in survey.translations:
            assert not texts & german, survey.name


def test_each_response_is_in_the_language_its_survey_was_shown_in_with_its_sentiment(seeded):
    from feedback.models import Response
    from feedback.services.respondent import survey_locales

    responses = list(Response.objects.for_org(seeded).select_related("survey"))
    commented = [r for r in responses if r.comment]
    assert commented
    for response in responses:
        assert response.locale in survey_locales(response.survey), response.pk
    for response in commented:  # English and German alike (feedback.sentiment)
        assert response.sentiment_label, response.comment
        assert response.sentiment is not None, response.comment
    assert {r.locale for r in commented} >= {"en", "de"}
