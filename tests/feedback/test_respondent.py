"""The respondent's survey page: /s/<token>/, the one-click link, thanks, expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import InvitationStatus, Question, Response
from feedback.services import responses as response_services
from tests.feedback.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
)


@pytest.fixture
def invitation(org):
    return InvitationFactory(organization=org)


def questions(invitation):
    primary, comment = Question.objects.filter(survey=invitation.survey).order_by("position")
    return primary, comment


def url(invitation, *parts):
    return "/s/" + "/".join([invitation.token, *map(str, parts)]) + "/"


def without_nonce(content: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b"", content)


def post(client, invitation, data, **extra):
    return client.post(url(invitation), data, HTTP_USER_AGENT=BROWSER, **extra)


def test_the_survey_page_shows_the_questions_and_changes_nothing(client, invitation):
    page = client.get(url(invitation), HTTP_USER_AGENT=BROWSER)
    assert page.status_code == 200
    assert b"How likely are you to recommend us" in page.content
    assert b"What is the main reason for your score?" in page.content
    assert page["Cache-Control"] == "private, no-store"
    assert not Response.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_the_one_click_link_opens_with_the_score_chosen_and_records_nothing_by_get(
    client, invitation
):
    primary, _ = questions(invitation)
    page = client.get(url(invitation, 9))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="q{primary.pk}-9" name="q{primary.pk}" value="9" checked' in html
    assert 'data-oneclick="9"' in html
    assert "Confirm my score" in html  # the no-JavaScript way
    assert not Response.objects.exists()


def test_a_one_click_link_with_a_score_off_the_scale_just_opens_the_survey(client, invitation):
    page = client.get(url(invitation, 42))
    assert page.status_code == 200
    assert b"data-oneclick" not in page.content
    assert not Response.objects.exists()


def test_confirming_the_one_click_score_records_it_at_once(client, invitation):
    primary, _ = questions(invitation)
    result = post(client, invitation, {f"q{primary.pk}": "9", "_oneclick": "9"})
    assert result.status_code == 302
    assert result["Location"] == url(invitation) + "?saved=1"
    response = Response.objects.get(invitation=invitation)
    assert (response.primary_score, response.category) == (9, "promoter")
    assert not response.completed  # the respondent may still add a comment and Send
    assert not response.flagged_automated
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.RESPONDED
    assert invitation.responded_at is not None
    page = client.get(url(invitation) + "?saved=1")
    assert b"your answer is saved" in page.content


def test_the_page_posts_answers_one_by_one_as_json(client, invitation):
    primary, comment = questions(invitation)
    first = post(client, invitation, {f"q{primary.pk}": "3"}, HTTP_ACCEPT="application/json")
    assert first.json() == {"ok": True, "errors": {}, "completed": False}
    second = post(
        client,
        invitation,
        {f"q{comment.pk}": "Slow delivery", "_shown": str(comment.pk)},
        HTTP_ACCEPT="application/json",
    )
    assert second.status_code == 200
    response = Response.objects.get(invitation=invitation)
    assert (response.primary_score, response.category) == (3, "detractor")
    assert response.comment == "Slow delivery"
    assert response.answers.count() == 2


def test_sending_the_form_completes_the_response_and_shows_the_thank_you_page(
    client, invitation, django_capture_on_commit_callbacks
):
    primary, comment = questions(invitation)
    with django_capture_on_commit_callbacks(execute=True):
        result = post(
            client,
            invitation,
            {
                f"q{primary.pk}": "10",
                f"q{comment.pk}": "Great, friendly staff!",
                "_action": "submit",
            },
        )
    assert result.status_code == 302
    assert result["Location"] == url(invitation, "thanks")
    response = Response.objects.get(invitation=invitation)
    assert response.completed
    assert response.submitted_at is not None
    assert (response.primary_score, response.category) == (10, "promoter")
    assert response.channel == "web"
    assert response.sentiment_label == "positive"  # the pipeline ran after commit
    assert set(response.pipeline_steps.values_list("status", flat=True)) == {"done"}
    thanks = client.get(result["Location"])
    assert b"Thank you!" in thanks.content
    assert Response.objects.counted().count() == 1


def test_a_link_already_answered_shows_the_already_answered_page(client, invitation):
    primary, _ = questions(invitation)
    post(client, invitation, {f"q{primary.pk}": "8", "_action": "submit"})
    page = client.get(url(invitation))
    assert page.status_code == 200
    assert b"already answered" in page.content
    again = post(client, invitation, {f"q{primary.pk}": "2", "_action": "submit"})
    assert again.status_code == 302
    assert Response.objects.get().primary_score == 8  # a completed response is final
    assert client.get(url(invitation, 3)).content.count(b"already answered") == 1


def test_sending_twice_keeps_one_response(client, invitation):
    primary, _ = questions(invitation)
    for _ in range(3):
        post(client, invitation, {f"q{primary.pk}": "7", "_action": "submit"})
    assert Response.objects.count() == 1


@pytest.mark.parametrize("bad", ["11", "-1", "abc", "9.5", "", "1e3", "٣"])
def test_an_invalid_score_gets_the_form_back_with_the_error(client, invitation, bad):
    primary, comment = questions(invitation)
    result = post(
        client,
        invitation,
        {f"q{primary.pk}": bad, f"q{comment.pk}": "kept", "_action": "submit"},
    )
    assert result.status_code == 422
    html = result.content.decode()
    assert "Please check your answers" in html
    assert (
        "aria-invalid" in html or "Choose a score from 0 to 10" in html or "Please answer" in html
    )
    response = Response.objects.filter(invitation=invitation).first()
    # What was valid is kept; nothing is completed.
    assert response is not None
    assert response.comment == "kept"
    assert not response.completed


def test_a_malformed_choice_and_an_overlong_text_are_form_errors_not_500(client, org):
    survey = SurveyFactory(organization=org)
    choice = Question.objects.create(
        organization=org,
        survey=survey,
        type="multi_choice",
        text="What did you buy?",
        choices=["Shoes", "Bags"],
        position=5,
    )
    invitation = InvitationFactory(organization=org, survey=survey)
    primary = survey.questions.get(is_primary=True)
    text = survey.questions.get(type="text")
    result = post(
        client,
        invitation,
        {
            f"q{primary.pk}": "5",
            f"q{choice.pk}": ["Shoes", "<script>"],
            f"q{text.pk}": "x" * 6000,
            "_action": "submit",
        },
    )
    assert result.status_code == 422
    assert b"Choose among the options shown." in result.content
    assert b"under 5,000 characters" in result.content
    assert b"&lt;script&gt;" not in result.content or b"<script>" not in result.content


def test_a_post_without_a_required_answer_is_refused_with_a_message(client, invitation):
    _, comment = questions(invitation)
    result = post(client, invitation, {f"q{comment.pk}": "hm", "_action": "submit"})
    assert result.status_code == 422
    assert b"Please answer this question." in result.content


def test_an_expired_link_shows_a_friendly_page_and_takes_no_answer(client, org):
    invitation = InvitationFactory(
        organization=org, expires_at=timezone.now() - timedelta(minutes=1)
    )
    primary, _ = questions(invitation)
    page = client.get(url(invitation))
    assert page.status_code == 410
    assert b"This link has expired" in page.content
    assert client.get(url(invitation, 9)).status_code == 410
    result = post(client, invitation, {f"q{primary.pk}": "9", "_action": "submit"})
    assert result.status_code == 410
    assert not Response.objects.exists()


def test_an_invitation_marked_expired_is_expired_too(client, org):
    invitation = InvitationFactory(organization=org, status=InvitationStatus.EXPIRED)
    assert client.get(url(invitation)).status_code == 410


def test_an_unknown_link_is_a_plain_404_that_hints_at_nothing(client, invitation):
    a = client.get("/s/not-a-real-token/")
    b = client.get("/s/" + invitation.token[:-1] + "x/9/")
    c = client.post("/s/nope/", {"q1": "9"})
    assert a.status_code == b.status_code == c.status_code == 404
    assert without_nonce(a.content) == without_nonce(c.content)  # the same page, whatever the token
    assert invitation.token.encode() not in a.content + b.content
    assert b"We could not find this survey" in a.content


def test_the_page_speaks_the_contacts_language_when_the_survey_has_it(client, org):
    survey = SurveyFactory(
        organization=org, translations={"de": {"title": "Wie war es?"}}, title="How was it?"
    )
    primary = survey.questions.get(is_primary=True)
    primary.translations = {"de": {"text": "Würden Sie uns weiterempfehlen?"}}
    primary.save()
    invitation = InvitationFactory(organization=org, survey=survey, contact__locale="de")
    page = client.get(url(invitation))
    html = page.content.decode()
    assert '<html lang="de"' in html
    assert "Wie war es?" in html
    assert "Würden Sie uns weiterempfehlen?" in html
    assert "Senden" in html  # the page's own words, from the German catalogue
    english = InvitationFactory(organization=org, survey=survey, contact__locale="fr")
    assert "How was it?" in client.get(url(english)).content.decode()
    assert (
        "Diese Bewertung gibt es auf der Skala nicht"
        in client.get(url(invitation, 11)).content.decode()
    )
    post(client, invitation, {f"q{primary.pk}": "9", "_action": "submit"})
    thanks = client.get(url(invitation, "thanks")).content.decode()
    assert "Ihre Antworten wurden gesendet" in thanks


def test_a_scanner_user_agent_is_recorded_but_flagged_and_not_counted(client, invitation):
    primary, _ = questions(invitation)
    client.post(
        url(invitation),
        {f"q{primary.pk}": "10", "_action": "submit"},
        HTTP_USER_AGENT="Mozilla/5.0 (compatible; Barracuda Sentinel)",
    )
    response = Response.objects.get()
    assert response.flagged_automated
    assert "barracuda" in response.flag_reason
    assert Response.objects.counted().count() == 0


def test_several_one_click_scores_within_seconds_are_flagged(client, invitation):
    primary, _ = questions(invitation)
    for score in (0, 1, 2):
        post(client, invitation, {f"q{primary.pk}": str(score), "_oneclick": str(score)})
    response = Response.objects.get()
    assert response.flagged_automated
    assert response.flag_reason.startswith("several scores")


def test_a_post_right_after_the_email_was_sent_is_flagged_until_a_person_sends_the_form(
    client, org, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    invitation = InvitationFactory(organization=org, sent_at=timezone.now())
    primary, _ = questions(invitation)
    post(client, invitation, {f"q{primary.pk}": "9", "_oneclick": "9"})
    response = Response.objects.get()
    assert response.flagged_automated
    assert response.flag_reason.startswith("posted ")
    time_machine.shift(timedelta(minutes=2))
    post(client, invitation, {f"q{primary.pk}": "9", "_action": "submit"})
    response.refresh_from_db()
    assert response.completed
    assert not response.flagged_automated
    assert response.channel == "email"


def test_an_abandoned_response_with_its_score_is_completed_by_the_sweep(
    client, invitation, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now(), tick=False)
    primary, _ = questions(invitation)
    post(client, invitation, {f"q{primary.pk}": "4", "_oneclick": "4"})
    assert response_services.responses_complete_abandoned() == 0
    time_machine.shift(timedelta(minutes=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert response_services.responses_complete_abandoned() == 1
    response = Response.objects.get()
    assert response.completed
    assert set(response.pipeline_steps.values_list("status", flat=True)) == {"done"}
    assert response_services.responses_complete_abandoned() == 0
    assert b"already answered" in client.get(url(invitation)).content


def test_the_thank_you_page_before_any_answer_leads_back_to_the_survey(client, invitation):
    result = client.get(reverse("feedback:respondent_thanks", args=[invitation.token]))
    assert result.status_code == 302
    assert result["Location"] == url(invitation)


def test_the_error_page_keeps_every_answer_already_chosen(client, org):
    survey = SurveyFactory(organization=org)
    primary = survey.questions.get(is_primary=True)
    comment = survey.questions.get(type="text")
    rating = Question.objects.create(
        organization=org, survey=survey, type="csat", text="The staff?", position=2
    )
    store = Question.objects.create(
        organization=org,
        survey=survey,
        type="single_choice",
        text="Which store?",
        choices=["Berlin", "Munich"],
        position=3,
    )
    bought = Question.objects.create(
        organization=org,
        survey=survey,
        type="multi_choice",
        text="What did you buy?",
        choices=["Shoes", "Bags", "Hats"],
        position=4,
    )
    why = Question.objects.create(
        organization=org, survey=survey, type="text", text="Why?", required=True, position=5
    )
    invitation = InvitationFactory(organization=org, survey=survey)
    result = post(
        client,
        invitation,
        {
            f"q{primary.pk}": "7",
            f"q{comment.pk}": "Friendly people",
            f"q{rating.pk}": "4",
            f"q{store.pk}": "munich",  # any case: the canonical choice is shown chosen
            f"q{bought.pk}": ["Shoes", "Hats"],
            f"q{why.pk}": "",
            "_action": "submit",
        },
    )
    assert result.status_code == 422
    html = result.content.decode()
    assert f'id="err-q{why.pk}"' in html
    assert f'id="q{primary.pk}-7" name="q{primary.pk}" value="7" checked' in html
    assert html.count(f'name="q{primary.pk}" value="7" checked') == 1
    assert f'id="q{rating.pk}-4" name="q{rating.pk}" value="4" checked' in html
    assert f'name="q{store.pk}" value="Munich" checked' in html
    assert f'name="q{store.pk}" value="Berlin" checked' not in html
    assert f'name="q{bought.pk}" value="Shoes" checked' in html
    assert f'name="q{bought.pk}" value="Hats" checked' in html
    assert f'name="q{bought.pk}" value="Bags" checked' not in html
    assert ">Friendly people</textarea>" in html


def test_the_error_page_shows_the_score_already_saved_as_chosen(client, invitation):
    """The page saves each answer as it goes (JavaScript): the saved score stays chosen
    when Send then fails, as does an invalid value next to its message."""
    primary, comment = questions(invitation)
    comment.required = True
    comment.save()
    post(client, invitation, {f"q{primary.pk}": "2"}, HTTP_ACCEPT="application/json")
    result = post(client, invitation, {f"q{primary.pk}": "2", "_action": "submit"})
    assert result.status_code == 422
    assert f'name="q{primary.pk}" value="2" checked' in result.content.decode()
    bad = post(client, invitation, {f"q{primary.pk}": "٣", "_action": "submit"})
    assert bad.status_code == 422
    assert 'value="3" checked' not in bad.content.decode()


def test_a_one_click_score_off_the_scale_says_so_above_the_form(client, invitation):
    primary, _ = questions(invitation)
    page = client.get(url(invitation, 11), HTTP_USER_AGENT=BROWSER)
    assert page.status_code == 200
    html = page.content.decode()
    assert "That score isn’t on the scale – pick one below." in html
    assert f'name="q{primary.pk}" value="10"' in html  # the normal form
    assert " checked" not in html
    assert "data-oneclick" not in html
    assert not Response.objects.exists()
    assert "isn’t on the scale" not in client.get(url(invitation, 10)).content.decode()
    assert "isn’t on the scale" not in client.get(url(invitation)).content.decode()


def test_the_thank_you_page_thanks_once(client, invitation):
    primary, _ = questions(invitation)
    post(client, invitation, {f"q{primary.pk}": "9", "_action": "submit"})
    for page in (client.get(url(invitation, "thanks")), client.get(url(invitation))):
        text = re.sub(r"<[^>]+>", " ", page.content.decode().split("<main", 1)[1])
        assert text.count("Thank you") == 1, text
    invitation.survey.thank_you = ""
    invitation.survey.save()
    page = client.get(url(invitation, "thanks")).content.decode()
    assert page.split("<main", 1)[1].count("Thank you") == 1


@pytest.mark.parametrize("parts", [(), (9,), ("thanks",)], ids=["survey", "one-click", "thanks"])
def test_a_head_request_answers_like_get_and_changes_nothing(client, invitation, parts):
    get = client.get(url(invitation, *parts), HTTP_USER_AGENT=BROWSER)
    head = client.head(url(invitation, *parts), HTTP_USER_AGENT=BROWSER)
    assert head.status_code == get.status_code
    assert head["Content-Type"] == get["Content-Type"]
    assert head.get("Cache-Control") == get.get("Cache-Control")
    assert head.get("Location") == get.get("Location")
    assert not Response.objects.exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
