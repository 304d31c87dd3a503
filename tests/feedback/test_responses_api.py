"""The public API of surveys and responses: /api/v1/surveys/ and /api/v1/responses/."""

from __future__ import annotations

import datetime as dt

import pytest

from cxplatform.models import Role
from feedback.models import Contact, Question, Response, Survey
from tests.feedback.factories import ContactFactory, ResponseFactory, SurveyFactory
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------- surveys


def test_creating_a_survey_with_its_questions(api, org):
    touchpoint = TouchpointFactory(organization=org)
    result = api.post(
        "/api/v1/surveys/",
        {
            "name": "Store CSAT",
            "kind": "csat",
            "touchpoint": touchpoint.pk,
            "questions": [
                {
                    "type": "csat",
                    "text": "How satisfied were you?",
                    "is_primary": True,
                    "required": True,
                },
                {"type": "single_choice", "text": "Which store?", "choices": ["Berlin", "Munich"]},
                {"type": "text", "text": "Anything else?"},
            ],
        },
        format="json",
    )
    assert result.status_code == 201, result.json()
    body = result.json()
    assert [q["position"] for q in body["questions"]] == [0, 1, 2]
    assert body["questions"][0]["is_primary"] is True
    assert body["touchpoint"] == touchpoint.pk
    assert Survey.objects.get().organization == org


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([{"type": "text", "text": "Why?"}], "needs one primary"),
        ([{"type": "nps", "text": "Recommend?", "is_primary": True}], "must be of type"),
        (
            [
                {"type": "csat", "text": "Happy?", "is_primary": True},
                {"type": "multi_choice", "text": "Pick", "choices": ["Only one"]},
            ],
            "at least two choices",
        ),
        ([{"type": "smiley", "text": "?", "is_primary": True}], "not a valid choice"),
    ],
)
def test_invalid_surveys_are_400_with_the_reason(api, questions, message):
    result = api.post(
        "/api/v1/surveys/", {"name": "x", "kind": "csat", "questions": questions}, format="json"
    )
    assert result.status_code == 400
    assert result.json()["code"] == "invalid"
    assert message in str(result.json()["fields"])
    assert not Survey.objects.exists()


def test_updating_the_questions_keeps_answered_ones_in_the_history(api, org):
    response = ResponseFactory(organization=org, primary_score=9)
    survey = response.survey
    primary = survey.questions.get(is_primary=True)
    result = api.patch(
        f"/api/v1/surveys/{survey.pk}/",
        {
            "questions": [
                {"type": "text", "text": "First, tell us anything"},
                {"id": primary.pk, "type": "nps", "text": primary.text, "is_primary": True},
            ]
        },
        format="json",
    )
    assert result.status_code == 200, result.json()
    texts = [q["text"] for q in result.json()["questions"]]
    assert texts == ["First, tell us anything", primary.text]
    # The old comment question had no answers: deleted. The primary keeps its id.
    assert result.json()["questions"][1]["id"] == primary.pk
    assert response.answers.count() == 1


def test_deleting_a_survey_archives_it(api, org):
    survey = SurveyFactory(organization=org)
    assert api.delete(f"/api/v1/surveys/{survey.pk}/").status_code == 204
    survey.refresh_from_db()
    assert survey.status == "archived"


def test_a_viewer_key_reads_surveys_but_cannot_write(api_client_for, org):
    viewer = api_client_for(org, Role.VIEWER)
    SurveyFactory(organization=org)
    assert viewer.get("/api/v1/surveys/").json()["count"] == 1
    assert viewer.post("/api/v1/surveys/", {"name": "x"}, format="json").status_code == 403


def test_a_touchpoint_of_another_organization_is_not_accepted(api, other_org):
    result = api.post(
        "/api/v1/surveys/",
        {"name": "x", "kind": "custom", "touchpoint": TouchpointFactory(organization=other_org).pk},
        format="json",
    )
    assert result.status_code == 400
    assert "touchpoint" in result.json()["fields"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"translations": {"de": "Wie war es?"}}, "translations"),
        ({"translations": {"xx": {"title": "?"}}}, "translations"),
        ({"translations": {"de": {"title": 5}}}, "translations"),
        ({"translations": {"de": {"colour": "red"}}}, "translations"),
        ({"translations": {"de": {"title": "Wie\x00"}}}, "translations"),
        ({"default_locale": "xx"}, "default_locale"),
        (
            {"questions": [{"type": "nps", "text": "?", "is_primary": True, "translations": []}]},
            "questions",
        ),
        (
            {
                "questions": [
                    {
                        "type": "nps",
                        "text": "?",
                        "is_primary": True,
                        "translations": {"de": {"choices": {"a": 1}}},
                    }
                ]
            },
            "questions",
        ),
    ],
)
def test_translations_the_respondent_page_could_not_read_are_refused(api, org, changes, field):
    survey = SurveyFactory(organization=org)
    result = api.patch(f"/api/v1/surveys/{survey.pk}/", changes, format="json")
    assert result.status_code == 400, result.content
    assert set(result.json()["fields"]) == {field}
    survey.refresh_from_db()
    assert survey.translations == {}
    assert survey.default_locale == "en"


def test_translations_in_the_known_shape_are_kept(api, org):
    survey = SurveyFactory(organization=org)
    result = api.patch(
        f"/api/v1/surveys/{survey.pk}/",
        {"translations": {"de": {"title": " Wie war es? ", "intro": ""}}, "default_locale": "de"},
        format="json",
    )
    assert result.status_code == 200, result.content
    assert result.json()["translations"] == {"de": {"title": "Wie war es?"}}


# ---------------------------------------------------------------------------- responses


def test_recording_a_call_centre_score_with_score_and_comment(api, org):
    survey = SurveyFactory(organization=org)
    result = api.post(
        "/api/v1/responses/",
        {
            "survey": survey.pk,
            "contact_email": "Caller@Example.com",
            "channel": "phone",
            "score": 3,
            "comment": "On hold for 40 minutes",
            "external_ref": "call-981",
        },
        format="json",
    )
    assert result.status_code == 201, result.json()
    body = result.json()
    assert (body["primary_score"], body["category"], body["channel"]) == (3, "detractor", "phone")
    assert body["contact_email"] == "caller@example.com"
    assert body["completed"] is True
    assert {a["value"] for a in body["answers"]} == {3, "On hold for 40 minutes"}
    assert Contact.objects.get().email == "caller@example.com"


def test_the_same_external_ref_twice_records_one_response(api, org):
    survey = SurveyFactory(organization=org)
    payload = {"survey": survey.pk, "score": 9, "external_ref": "chat-1"}
    first = api.post("/api/v1/responses/", payload, format="json")
    again = api.post("/api/v1/responses/", {**payload, "score": 1}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["primary_score"] == 9
    assert Response.objects.count() == 1


def test_answers_by_question_go_through_the_same_validation(api, org):
    survey = SurveyFactory(organization=org)
    primary = survey.questions.get(is_primary=True)
    choice = Question.objects.create(
        organization=org,
        survey=survey,
        type="single_choice",
        text="Store?",
        choices=["A", "B"],
        position=5,
    )
    ok = api.post(
        "/api/v1/responses/",
        {
            "survey": survey.pk,
            "answers": [
                {"question": primary.pk, "value": 10},
                {"question": choice.pk, "value": "b"},
            ],
        },
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    values = {a["question"]: a["value"] for a in ok.json()["answers"]}
    assert values == {primary.pk: 10, choice.pk: ["B"]}  # the canonical choice
    bad = api.post(
        "/api/v1/responses/",
        {"survey": survey.pk, "answers": [{"question": choice.pk, "value": "C"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert "Choose one of the options" in str(bad.json()["fields"])


@pytest.mark.parametrize(
    "payload",
    [
        {"score": 11},
        {"score": "ten"},
        {"score": -1},
        {"score": [1, 2]},
        {"score": {"a": 1}},
        {"answers": [{"question": 999999, "value": 5}]},
        {"answers": [{"value": 5}]},
        {"answers": "nope"},
        {},
        {"score": 5, "channel": "pigeon"},
        {"score": 5, "submitted_at": "yesterday"},
        {"score": 5, "contact_email": "not an email"},
        {"score": 5, "comment": "x" * 6000},
    ],
)
def test_invalid_responses_are_400_with_field_errors_never_500(api, org, payload):
    survey = SurveyFactory(organization=org)
    result = api.post("/api/v1/responses/", {"survey": survey.pk, **payload}, format="json")
    assert result.status_code == 400, result.content
    assert result.json()["code"] == "invalid"
    assert result.json()["fields"]
    assert not Response.objects.exists()


def test_a_survey_or_contact_of_another_organization_is_refused(api, org, other_org):
    theirs = SurveyFactory(organization=other_org)
    result = api.post("/api/v1/responses/", {"survey": theirs.pk, "score": 5}, format="json")
    assert result.status_code == 400
    assert "survey" in result.json()["fields"]
    mine = SurveyFactory(organization=org)
    result = api.post(
        "/api/v1/responses/",
        {"survey": mine.pk, "score": 5, "contact": ContactFactory(organization=other_org).pk},
        format="json",
    )
    assert result.status_code == 400
    assert "contact" in result.json()["fields"]


def test_the_list_filters_responses(api, org, django_assert_max_num_queries):
    touchpoint = TouchpointFactory(organization=org)
    low = ResponseFactory(organization=org, primary_score=2, touchpoint=touchpoint, channel="phone")
    high = ResponseFactory(organization=org, primary_score=10, comment="great")
    partial = ResponseFactory(organization=org, completed=False, submitted_at=None)

    def ids(**params):
        result = api.get("/api/v1/responses/", params)
        assert result.status_code == 200, result.json()
        return {r["id"] for r in result.json()["results"]}

    with django_assert_max_num_queries(8):
        assert ids() == {low.pk, high.pk}
    assert ids(category="detractor") == {low.pk}
    assert ids(touchpoint=touchpoint.pk) == {low.pk}
    assert ids(channel="phone") == {low.pk}
    assert ids(score_min=9) == {high.pk}
    assert ids(score_max=5) == {low.pk}
    assert ids(q="grea") == {high.pk}
    assert ids(completed="false") == {partial.pk}
    assert ids(completed="all") == {low.pk, high.pk, partial.pk}
    assert ids(survey=low.survey_id) == {low.pk}
    assert ids(since="2000-01-01", until="2999-01-01") == {low.pk, high.pk}
    assert ids(until="2000-01-01") == set()
    bad = api.get("/api/v1/responses/", {"since": "last week", "score_min": "x"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"since", "score_min"}


def test_an_agent_key_may_record_and_a_viewer_key_may_not(api_client_for, org):
    survey = SurveyFactory(organization=org)
    agent = api_client_for(org, Role.AGENT)
    viewer = api_client_for(org, Role.VIEWER)
    payload = {"survey": survey.pk, "score": 8}
    assert agent.post("/api/v1/responses/", payload, format="json").status_code == 201
    assert viewer.post("/api/v1/responses/", payload, format="json").status_code == 403


def test_responses_cannot_be_changed_or_deleted_through_the_api(api, org):
    response = ResponseFactory(organization=org)
    assert (
        api.patch(
            f"/api/v1/responses/{response.pk}/", {"primary_score": 1}, format="json"
        ).status_code
        == 405
    )
    assert api.delete(f"/api/v1/responses/{response.pk}/").status_code == 405
    assert api.get(f"/api/v1/responses/{response.pk}/").json()["primary_score"] == 9


@pytest.mark.parametrize(
    ("status", "message"),
    [("draft", "is a draft"), ("archived", "is closed")],
)
def test_a_survey_that_is_not_active_takes_no_response(api, org, status, message):
    survey = SurveyFactory(organization=org, status=status)
    result = api.post("/api/v1/responses/", {"survey": survey.pk, "score": 9}, format="json")
    assert result.status_code == 400, result.content
    assert result.json()["code"] == "invalid"
    assert message in result.json()["fields"]["survey"][0]
    assert not Response.objects.exists()


def test_a_repeat_of_an_external_ref_still_answers_once_the_survey_is_closed(api, org):
    survey = SurveyFactory(organization=org)
    payload = {"survey": survey.pk, "score": 9, "external_ref": "call-7"}
    first = api.post("/api/v1/responses/", payload, format="json")
    survey.status = "archived"
    survey.save()
    again = api.post("/api/v1/responses/", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize("locale", ["xx", "klingon", "de-DE", "EN", " "])
def test_a_locale_that_is_not_a_language_of_the_platform_is_refused(api, org, locale):
    survey = SurveyFactory(organization=org)
    result = api.post(
        "/api/v1/responses/", {"survey": survey.pk, "score": 9, "locale": locale}, format="json"
    )
    assert result.status_code == 400, result.content
    assert set(result.json()["fields"]) == {"locale"}
    assert not Response.objects.exists()


def test_a_locale_of_the_platform_is_kept(api, org):
    survey = SurveyFactory(organization=org)
    result = api.post(
        "/api/v1/responses/", {"survey": survey.pk, "score": 9, "locale": "de"}, format="json"
    )
    assert result.status_code == 201, result.content
    assert result.json()["locale"] == "de"


def test_two_answers_to_one_question_are_refused(api, org):
    survey = SurveyFactory(organization=org)
    primary = survey.questions.get(is_primary=True)
    result = api.post(
        "/api/v1/responses/",
        {
            "survey": survey.pk,
            "answers": [
                {"question": primary.pk, "value": 9},
                {"question": primary.pk, "value": 2},
            ],
        },
        format="json",
    )
    assert result.status_code == 400, result.content
    assert result.json()["fields"]["answers"] == [
        f"answer 2: question {primary.pk} is answered twice"
    ]
    assert not Response.objects.exists()


@pytest.mark.parametrize(("score", "value"), [(2, 9), (9, 9)])
def test_a_score_and_an_answer_to_the_primary_question_together_are_refused(api, org, score, value):
    survey = SurveyFactory(organization=org)
    primary = survey.questions.get(is_primary=True)
    result = api.post(
        "/api/v1/responses/",
        {
            "survey": survey.pk,
            "score": score,
            "answers": [{"question": primary.pk, "value": value}],
        },
        format="json",
    )
    assert result.status_code == 400, result.content
    assert "give its score once" in result.json()["fields"]["score"][0]
    assert not Response.objects.exists()


def test_a_comment_and_an_answer_to_the_comment_question_together_are_refused(api, org):
    survey = SurveyFactory(organization=org)
    text = survey.questions.get(type="text")
    result = api.post(
        "/api/v1/responses/",
        {
            "survey": survey.pk,
            "score": 9,
            "comment": "Fast",
            "answers": [{"question": text.pk, "value": "Slow"}],
        },
        format="json",
    )
    assert result.status_code == 400, result.content
    assert set(result.json()["fields"]) == {"comment"}
    assert not Response.objects.exists()


def test_the_schema_documents_the_rules_of_a_posted_response(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    request = schema["components"]["schemas"]["ResponseCreateRequest"]["properties"]
    assert "not both" in request["score"]["description"]
    assert "active" in request["survey"]["description"]
    assert "each question at most once" in request["answers"]["description"]
    enum = request["locale"]["oneOf"][0]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][enum]["enum"] == ["en", "de", "fr"]


def test_a_response_without_a_score_has_a_blank_category_that_the_schema_admits(api, org):
    """Found by schemathesis (response_schema_conformance): the schema promised one of the
    categories, the API sent "" for a response without a primary score."""
    partial = ResponseFactory(
        organization=org, primary_type="", primary_score=None, completed=False
    )
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    body = api.get(f"/api/v1/responses/{partial.pk}/").json()

    assert (body["primary_type"], body["category"]) == ("", "")
    components = schema["components"]["schemas"]
    for name in ("primary_type", "category"):
        refs = [
            s["$ref"].rsplit("/", 1)[1] for s in components["Response"]["properties"][name]["oneOf"]
        ]
        assert [""] in [components[ref]["enum"] for ref in refs], name


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "late\x00"}, "q"),
        ({"channel": "pigeon"}, "channel"),
        ({"channel": "\x00"}, "channel"),
        ({"category": "ecstatic"}, "category"),
        ({"since": "2026-02-30"}, "since"),
        ({"since": "2026-02-03T25:00"}, "since"),
        ({"until": "9999-12-31T23:59:59-01:00"}, "until"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "since"),
        # Beyond any id: SQLite cannot compare the number (it was a 500 there).
        ({"survey": str(2**64)}, "survey"),
        ({"contact": str(2**63)}, "contact"),
        ({"touchpoint": "0"}, "touchpoint"),
        ({"employee": "-1"}, "employee"),
    ],
)
def test_a_bad_filter_is_a_400_on_that_field_never_500(api, org, params, field):
    ResponseFactory(organization=org)
    result = api.get("/api/v1/responses/", params)
    assert result.status_code == 400, result.content
    assert set(result.json()["fields"]) == {field}


def test_a_date_time_with_any_offset_is_read_in_utc(api, org):
    """PostgreSQL takes offsets up to ±15:59 only: the filter converts to UTC first."""
    ResponseFactory(organization=org)
    result = api.get("/api/v1/responses/", {"since": "0804-09-13T06:26:22+21:42"})
    assert result.status_code == 200, result.content
    assert result.json()["count"] == 1


def test_until_a_date_includes_that_whole_day(api, org):
    moment = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
    response = ResponseFactory(organization=org, submitted_at=moment)

    def ids(**params):
        result = api.get("/api/v1/responses/", params)
        assert result.status_code == 200, result.json()
        return {r["id"] for r in result.json()["results"]}

    assert ids(until="2026-03-10") == {response.pk}
    assert ids(until="2026-03-09") == set()
    assert ids(since="2026-03-10", until="9999-12-31") == {response.pk}
    assert ids(since="2026-03-11") == set()
    assert ids(until="2026-03-10T14:59:59Z") == set()
