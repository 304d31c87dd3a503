"""Translations of a survey: the editor (a page per survey and language, source beside
translation), the service it saves through, the API, and the "needs translation" state
(a text changed after it was translated, or never translated)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cxplatform.models import AuditEvent, Role
from cxplatform.services import SYSTEM
from feedback.services import surveys as survey_services
from feedback.services import translations
from tests.feedback.factories import SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org):
    """The NPS template: English, with its German texts."""
    return survey_services.survey_create_from_template(org=org, actor=SYSTEM, kind="nps")


def editor_url(survey, locale="de"):
    return reverse("feedback:survey_translations", args=[survey.pk, locale])


def test_a_template_survey_is_fully_translated_into_german(survey):
    assert translations.needs_translation(survey) == {"de": 0}


def test_editing_the_english_title_marks_the_german_one_stale(survey):
    survey_services.survey_update(survey=survey, data={"title": "How did we do?"}, actor=SYSTEM)
    survey.refresh_from_db()
    assert translations.needs_translation(survey) == {"de": 1}
    (row,) = [r for r in translations.rows(survey, "de") if r.key == "survey.title"]
    assert row.source == "How did we do?"
    assert row.translation == "Wie machen wir uns?"
    assert row.state == "stale"


def test_a_new_question_needs_its_german_text(survey):
    survey_services.question_add(
        survey=survey,
        data={"type": "single_choice", "text": "Which store?", "choices": ["Berlin", "Munich"]},
        actor=SYSTEM,
    )
    survey.refresh_from_db()
    assert translations.needs_translation(survey) == {"de": 3}  # the text and two options
    missing = {r.source for r in translations.rows(survey, "de") if r.state == "missing"}
    assert missing == {"Which store?", "Berlin", "Munich"}


def test_saving_the_translations_clears_the_state_and_is_audited(survey):
    survey_services.survey_update(survey=survey, data={"title": "How did we do?"}, actor=SYSTEM)
    survey.refresh_from_db()
    translations.survey_translations_save(
        survey=survey, locale="de", texts={"survey.title": "Wie war es?"}, actor=SYSTEM
    )
    survey.refresh_from_db()
    assert survey.translations["de"]["title"] == "Wie war es?"
    assert survey.translations["de"]["intro"].startswith("Drei kurze Fragen")  # kept
    assert translations.needs_translation(survey) == {"de": 0}
    event = AuditEvent.objects.get(action="survey.translated")
    assert event.changes["title"] == ["Wie machen wir uns?", "Wie war es?"]


def test_the_survey_page_says_what_needs_translation_and_links_the_editor(manager, survey):
    survey_services.survey_update(survey=survey, data={"title": "How did we do?"}, actor=SYSTEM)
    page = manager.get(reverse("feedback:survey_detail", args=[survey.pk])).content.decode()
    assert "German: 1 text needs translation" in page
    assert f'href="{editor_url(survey)}"' in page
    assert f'href="{editor_url(survey, "fr")}"' in page  # start another language


def test_the_editor_shows_source_and_translation_side_by_side(manager, survey):
    survey_services.survey_update(survey=survey, data={"title": "How did we do?"}, actor=SYSTEM)
    page = manager.get(editor_url(survey)).content.decode()
    assert "How did we do?" in page  # the source
    assert 'value="Wie machen wir uns?"' in page  # the stale translation, to edit
    assert "Needs translation" in page
    for question in survey_services.active_questions(survey):
        assert question.text in page
    assert "Wie wahrscheinlich ist es" in page


def test_the_editor_saves_and_the_german_preview_shows_the_new_title(manager, survey):
    survey_services.survey_update(survey=survey, data={"title": "How did we do?"}, actor=SYSTEM)
    response = manager.post(editor_url(survey), {"survey.title": "Wie war es bei uns?"})
    assert response.status_code == 302
    survey.refresh_from_db()
    assert translations.needs_translation(survey) == {"de": 0}
    preview = manager.get(reverse("feedback:survey_preview", args=[survey.pk]), {"lang": "de"})
    assert "Wie war es bei uns?" in preview.content.decode()


def test_only_managers_save_translations_and_other_organizations_get_a_404(
    viewer, outsider, survey
):
    assert viewer.get(editor_url(survey)).status_code == 200
    assert viewer.post(editor_url(survey), {"survey.title": "x"}).status_code == 403
    assert outsider.get(editor_url(survey)).status_code == 404
    assert viewer.get(editor_url(survey, "xx")).status_code == 404
    assert viewer.get(editor_url(survey, "en")).status_code == 404  # the source language


def test_the_api_reads_and_writes_a_surveys_translations(org, api_client_for, survey):
    api = api_client_for(org, Role.MANAGER)
    survey_services.survey_update(survey=survey, data={"title": "How did we do?"}, actor=SYSTEM)
    body = api.get(f"/api/v1/surveys/{survey.pk}/translations/de/").json()
    assert body["locale"] == "de"
    assert body["needs_translation"] == 1
    title = next(t for t in body["texts"] if t["key"] == "survey.title")
    assert title == {
        "key": "survey.title",
        "label": "Title",
        "source": "How did we do?",
        "translation": "Wie machen wir uns?",
        "state": "stale",
    }
    saved = api.put(
        f"/api/v1/surveys/{survey.pk}/translations/de/",
        {"texts": {"survey.title": "Wie war es?"}},
        format="json",
    )
    assert saved.status_code == 200
    assert saved.json()["needs_translation"] == 0
    refused = api_client_for(org, Role.VIEWER).put(
        f"/api/v1/surveys/{survey.pk}/translations/de/", {"texts": {}}, format="json"
    )
    assert refused.status_code == 403
    unknown = api.put(
        f"/api/v1/surveys/{survey.pk}/translations/de/",
        {"texts": {"q999.text": "x"}},
        format="json",
    )
    assert unknown.status_code == 400


def test_a_survey_without_translations_needs_none(org):
    assert translations.needs_translation(SurveyFactory(organization=org)) == {}
