"""The unsubscribe link (``/u/<token>/``) and the open pixel (``/o/<token>.gif``).

A GET of the unsubscribe link changes nothing (mail scanners fetch every link); the
POST, also the mail client's RFC 8058 one-click POST without any cookie or CSRF token,
unsubscribes at once from every campaign."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from feedback.models import CampaignStatus, Contact, DeliveryEvent, Invitation, InvitationStatus
from feedback.services import contacts, outbox
from tests.feedback.factories import CampaignFactory, InvitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_without_cookies():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def invitation(org):
    return InvitationFactory(organization=org, status=InvitationStatus.SENT)


def test_the_get_shows_a_confirmation_and_changes_nothing(client_without_cookies, invitation):
    response = client_without_cookies.get(f"/u/{invitation.token}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Unsubscribe from surveys?" in body
    assert '<form method="post"' in body
    assert invitation.contact.email not in body  # masked: the link may be forwarded
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is None
    assert not DeliveryEvent.objects.exists()
    assert response["Cache-Control"] == "private, no-store"


def test_the_post_unsubscribes_from_every_campaign_at_once(client_without_cookies, org, invitation):
    other_campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    queued = InvitationFactory(
        organization=org,
        contact=invitation.contact,
        campaign=other_campaign,
        survey=other_campaign.survey,
    )
    response = client_without_cookies.post(f"/u/{invitation.token}/")
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert contact.unsubscribed_at is not None
    assert contact.suppression_reason == "unsubscribed (link)"
    queued.refresh_from_db()
    assert (queued.status, queued.suppression_reason) == ("suppressed", "unsubscribed")
    assert DeliveryEvent.objects.get().kind == "unsubscribe"
    assert outbox.claim_batch()[0] == []


def test_the_mail_clients_one_click_post_works_without_a_csrf_token(
    client_without_cookies, invitation
):
    response = client_without_cookies.post(
        f"/u/{invitation.token}/",
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    contact = Contact.objects.get(pk=invitation.contact_id)
    assert contact.suppression_reason == "unsubscribed (one-click)"


def test_unsubscribing_twice_is_harmless(client_without_cookies, invitation):
    client_without_cookies.post(f"/u/{invitation.token}/")
    first = Contact.objects.get(pk=invitation.contact_id).unsubscribed_at
    client_without_cookies.post(f"/u/{invitation.token}/")
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at == first
    assert DeliveryEvent.objects.count() == 1
    page = client_without_cookies.get(f"/u/{invitation.token}/")
    assert "You are unsubscribed" in page.content.decode()


def test_an_unknown_link_is_a_friendly_404(client_without_cookies):
    for method in ("get", "post"):
        response = getattr(client_without_cookies, method)("/u/not-a-real-token/")
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    assert client_without_cookies.get(f"/u/{'x' * 300}/").status_code == 404


def test_other_methods_are_refused(client_without_cookies, invitation):
    assert client_without_cookies.put(f"/u/{invitation.token}/").status_code == 405


def test_the_open_pixel_is_a_gif_that_marks_the_first_open(client_without_cookies, invitation):
    response = client_without_cookies.get(f"/o/{invitation.token}.gif")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED
    opened_at = invitation.opened_at
    client_without_cookies.get(f"/o/{invitation.token}.gif")
    assert Invitation.objects.get(pk=invitation.pk).opened_at == opened_at


def test_the_pixel_of_an_unknown_token_is_still_a_gif_and_changes_nothing(
    client_without_cookies,
):
    response = client_without_cookies.get("/o/unknown.gif")
    assert response.status_code == 200
    assert not DeliveryEvent.objects.exists()


def test_an_unsubscribed_contact_is_left_out_of_the_next_campaign(org, invitation):
    from feedback.services import audience

    contacts.contact_unsubscribe(invitation=invitation, now=timezone.now())
    campaign = CampaignFactory(organization=org)
    preview = audience.preview(campaign)
    assert preview.suppressed["unsubscribed"] == 1


def test_the_unsubscribe_page_speaks_the_contacts_language(client_without_cookies, org):
    from tests.feedback.factories import ContactFactory, SurveyFactory

    survey = SurveyFactory(organization=org, translations={"de": {"title": "Wie war es?"}})
    contact = ContactFactory(organization=org, locale="de")
    invitation = InvitationFactory(organization=org, survey=survey, contact=contact)
    page = client_without_cookies.get(f"/u/{invitation.token}/")
    assert "Von Umfragen abmelden?" in page.content.decode()
    assert page["Content-Language"] == "de"
    done = client_without_cookies.post(f"/u/{invitation.token}/")
    assert "Sie sind abgemeldet" in done.content.decode()


def test_a_head_of_the_unsubscribe_link_answers_like_get_and_changes_nothing(
    client_without_cookies, invitation
):
    response = client_without_cookies.head(f"/u/{invitation.token}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert Contact.objects.get(pk=invitation.contact_id).unsubscribed_at is None


def test_a_head_of_the_open_pixel_is_a_gif_but_is_not_an_open(client_without_cookies, invitation):
    # Scanners and link checkers send HEAD; a person's mail client fetches the image.
    response = client_without_cookies.head(f"/o/{invitation.token}.gif")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT
    assert invitation.opened_at is None
