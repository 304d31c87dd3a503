"""The survey email: placeholders, escaping, the one-click scale, the plain-text part,
the unsubscribe headers, a stable Message-ID, and the raw MIME bytes sent over SMTP."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from feedback.models import Question
from feedback.services import email as email_render
from tests.feedback.factories import (
    CampaignFactory,
    ContactFactory,
    InvitationFactory,
    SurveyFactory,
)
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(org):
    org.name = "Acme Rentals"
    org.save()
    touchpoint = TouchpointFactory(organization=org, name="Car pick-up")
    campaign = CampaignFactory(
        organization=org,
        touchpoint=touchpoint,
        subject="{{ contact.first_name }}, how was {{ touchpoint }}?",
        body="Hi {{ contact.first_name }},\n\nThanks for choosing {{ company }}.\nSee you soon.\n\n{{ contact.company }}",
    )
    contact = ContactFactory(organization=org, name="Ada Lovelace", company="Engines Ltd")
    return InvitationFactory(
        organization=org, campaign=campaign, survey=campaign.survey, contact=contact
    )


def test_placeholders_are_filled_from_the_contact_the_organization_and_the_touchpoint(invitation):
    rendered = email_render.render_invitation(invitation)
    assert rendered.subject == "Ada, how was Car pick-up?"
    assert "Hi Ada," in rendered.text
    assert "Thanks for choosing Acme Rentals." in rendered.text
    assert "Engines Ltd" in rendered.text
    assert (
        '<p style="margin:0 0 16px 0">Thanks for choosing Acme Rentals.<br>See you soon.</p>'
        in (rendered.html)
    )
    assert rendered.from_email == "Acme Rentals <feedback@cx.example>"


def test_the_nps_question_is_eleven_one_click_links_to_the_score_pages(invitation):
    rendered = email_render.render_invitation(invitation)
    token = invitation.token
    links = re.findall(rf'href="http://testserver/s/{token}/(\d+)/"', rendered.html)
    assert links == [str(n) for n in range(11)]
    assert "How likely are you to recommend us" in rendered.html
    assert f"http://testserver/s/{token}/10/" in rendered.text
    assert f'src="http://testserver/o/{token}.gif"' in rendered.html


def test_a_csat_survey_gets_a_one_to_five_scale(org):
    survey = SurveyFactory(organization=org, questions=False, kind="csat")
    Question.objects.create(
        organization=org, survey=survey, type="csat", is_primary=True, text="Satisfied?"
    )
    invitation = InvitationFactory(organization=org, survey=survey)
    rendered = email_render.render_invitation(invitation)
    assert re.findall(r'/s/[^/]+/(\d+)/"', rendered.html) == ["1", "2", "3", "4", "5"]


def test_the_contacts_details_are_escaped_in_the_html(org):
    contact = ContactFactory(organization=org, name='<img src=x onerror="alert(1)">')
    campaign = CampaignFactory(organization=org, body="Hello {{ contact.name }}")
    invitation = InvitationFactory(
        organization=org, contact=contact, campaign=campaign, survey=campaign.survey
    )
    html = email_render.render_invitation(invitation).html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_the_unsubscribe_headers_and_a_stable_message_id(invitation):
    first = email_render.render_invitation(invitation)
    again = email_render.render_invitation(invitation)
    token = invitation.token
    assert first.headers["List-Unsubscribe"] == f"<http://testserver/u/{token}/>"
    assert first.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.headers["Message-ID"] == again.headers["Message-ID"]
    assert first.headers["Message-ID"] == f"<invitation-{invitation.pk}.{token[:8]}@testserver>"
    assert f"http://testserver/u/{token}/" in first.html
    assert f"http://testserver/u/{token}/" in first.text


def test_a_reminder_says_so_and_has_its_own_message_id(invitation):
    rendered = email_render.render_invitation(invitation, reminder=1)
    assert rendered.subject == "Reminder: Ada, how was Car pick-up?"
    assert "have not heard back" in rendered.text
    assert rendered.headers["Message-ID"].endswith(".r1@testserver>")


def test_the_css_is_inlined_for_mail_clients(invitation):
    html = email_render.render_invitation(invitation).html
    assert 'class="score"' in html
    assert re.search(r'<a href="[^"]+/0/" title="0" style="[^"]*background', html)


def test_the_raw_message_parses_back_to_the_same_email(org, invitation):
    invitation.contact.name = "Jürgen Ößwald"
    invitation.campaign.subject = "Wie war's, {{ contact.first_name }}? ✓"
    rendered = email_render.render_invitation(invitation)
    raw = rendered.as_bytes()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Wie war's, Jürgen? ✓"
    assert parsed["To"] == invitation.contact.email
    assert parsed["Message-ID"] == rendered.headers["Message-ID"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = parsed.get_body(("html",)).get_content()
    text = parsed.get_body(("plain",)).get_content()
    assert html.replace("\r\n", "\n") == rendered.html.replace("\r\n", "\n")
    assert text.replace("\r\n", "\n") == rendered.text.replace("\r\n", "\n")


def test_the_django_message_carries_both_parts_and_the_headers(invitation):
    message = email_render.render_invitation(invitation).message()
    assert message.to == [invitation.contact.email]
    assert message.alternatives[0].mimetype == "text/html"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_unknown_placeholders_are_reported_and_left_as_written():
    assert email_render.unknown_placeholders("{{ contact.name }} {{ nope }} {{company}}") == [
        "nope"
    ]
    assert email_render.fill("{{ nope }}", {"company": "x"}) == "{{ nope }}"


def test_a_german_contact_gets_the_email_in_german_when_the_survey_speaks_it(org):
    survey = SurveyFactory(organization=org, translations={"de": {"title": "Wie war es?"}})
    question = survey.questions.get(is_primary=True)
    question.translations = {"de": {"text": "Wie wahrscheinlich empfehlen Sie uns weiter?"}}
    question.save()
    contact = ContactFactory(organization=org, locale="de", name="Jürgen Weber")
    invitation = InvitationFactory(organization=org, survey=survey, contact=contact)
    rendered = email_render.render_invitation(invitation, reminder=1)
    assert rendered.subject.startswith("Erinnerung: ")
    assert "Wie wahrscheinlich empfehlen Sie uns weiter?" in rendered.html
    assert "Von Umfragen abmelden" in rendered.html
    assert "Der Link ist bis" in rendered.text
    assert 'lang="de"' in rendered.html
    english = email_render.render_invitation(InvitationFactory(organization=org, survey=survey))
    assert "Unsubscribe from surveys" in english.html


def test_a_contact_without_a_name_is_greeted_neutrally_not_by_their_email(org):
    campaign = CampaignFactory(
        organization=org,
        subject="{{ contact.first_name }}, how was it?",
        body="Hi {{ contact.first_name }},\n\nThanks, {{ contact.name }}, for choosing us.",
    )
    contact = ContactFactory(organization=org, name="", email="j.smith42@example.com")
    invitation = InvitationFactory(
        organization=org, campaign=campaign, survey=campaign.survey, contact=contact
    )
    rendered = email_render.render_invitation(invitation)
    assert "j.smith42" not in rendered.subject
    assert rendered.subject == "How was it?"
    assert rendered.text.lstrip().startswith("Hello,") or "\nHello,\n" in rendered.text
    assert "Thanks for choosing us." in rendered.text
    assert "j.smith42," not in rendered.html
    assert "Hello," in rendered.html


def test_the_default_email_greets_a_nameless_contact_with_hello(org):
    campaign = CampaignFactory(organization=org)
    campaign.subject = email_render.DEFAULT_SUBJECT
    campaign.body = email_render.DEFAULT_BODY
    campaign.save()
    contact = ContactFactory(organization=org, name="  ", email="info@shop.example")
    invitation = InvitationFactory(
        organization=org, campaign=campaign, survey=campaign.survey, contact=contact
    )
    rendered = email_render.render_invitation(invitation)
    assert rendered.subject == "How did we do?"
    assert "Hello," in rendered.text
    assert "info" not in rendered.text.split("Thank you")[0]


def test_the_email_writes_the_expiry_date_as_the_app_does(org, viewer):
    from datetime import UTC, datetime

    from django.urls import reverse

    expires = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)
    contact = ContactFactory(organization=org, name="Ann Lee")
    invitation = InvitationFactory(
        organization=org, contact=contact, status="sent", expires_at=expires
    )
    assert "The link works until 3 Mar 2027." in email_render.render_invitation(invitation).text
    page = viewer.get(reverse("feedback:contact_detail", args=[contact.pk])).content.decode()
    assert "Link open until 3 Mar 2027" in page
    german = ContactFactory(organization=org, name="Jürgen Weber", locale="de")
    survey = SurveyFactory(organization=org, translations={"de": {"title": "Wie war es?"}})
    invitation = InvitationFactory(
        organization=org, contact=german, survey=survey, expires_at=expires
    )
    assert "3 Mär 2027" in email_render.render_invitation(invitation).text


def test_the_expiry_date_is_the_day_in_the_contacts_time_zone(org):
    from datetime import UTC, datetime

    contact = ContactFactory(organization=org, name="Kim", time_zone="Pacific/Auckland")
    invitation = InvitationFactory(
        organization=org, contact=contact, expires_at=datetime(2027, 3, 3, 20, 0, tzinfo=UTC)
    )
    assert "until 4 Mar 2027." in email_render.render_invitation(invitation).text
