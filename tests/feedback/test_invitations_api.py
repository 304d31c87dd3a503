"""POST /api/v1/invitations/: one survey for one contact, idempotent on external_ref, with
an unguessable token, an expiry and the full survey link; the email goes out through the
sending engine."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cxplatform.models import AuditEvent, Role
from feedback.models import Contact, Invitation
from tests.factories import EmployeeFactory
from tests.feedback.factories import ContactFactory, InvitationFactory, SurveyFactory
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/invitations/"


@pytest.fixture
def survey(org):
    return SurveyFactory(organization=org, status="active")


def test_triggering_a_survey_creates_the_contact_and_the_invitation(
    api, org, survey, django_capture_on_commit_callbacks, mailoutbox
):
    touchpoint = TouchpointFactory(organization=org, name="Checkout")
    employee = EmployeeFactory(organization=org)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            URL,
            {
                "survey": survey.pk,
                "contact_email": "New.Customer@Example.com",
                "contact_name": "New Customer",
                "locale": "de",
                "touchpoint": touchpoint.pk,
                "employee": employee.pk,
                "external_ref": "order-1001",
            },
        )

    assert response.status_code == 201, response.json()
    body = response.json()
    invitation = Invitation.objects.get(pk=body["id"])
    contact = Contact.objects.get(organization=org)
    assert (contact.email, contact.name, contact.locale) == (
        "new.customer@example.com",
        "New Customer",
        "de",
    )
    assert body["contact"] == {"id": contact.pk, "email": contact.email, "name": "New Customer"}
    assert (body["survey"], body["touchpoint"], body["employee"]) == (
        survey.pk,
        touchpoint.pk,
        employee.pk,
    )
    assert body["external_ref"] == "order-1001"
    assert body["survey_url"] == f"http://testserver/s/{invitation.token}/"
    assert body["status"] == "pending", "queued; the engine sends it after commit"
    invitation.refresh_from_db()
    assert invitation.status == "sent"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.customer@example.com"]
    assert body["survey_url"] in mailoutbox[0].body
    assert AuditEvent.objects.filter(action="invitation.created").exists()


def test_the_same_external_ref_for_the_same_contact_returns_the_first_invitation(
    api, org, survey, mailoutbox
):
    payload = {"survey": survey.pk, "contact_email": "a@example.com", "external_ref": "T-42"}

    first = api.post(URL, payload)
    # A retry may spell the address differently and change the other fields.
    again = api.post(URL, {**payload, "contact_email": " A@Example.com", "send_email": False})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["survey_url"] == first.json()["survey_url"]
    assert Invitation.objects.filter(organization=org).count() == 1


def test_the_same_external_ref_for_another_contact_is_a_conflict(api, org, survey):
    payload = {"survey": survey.pk, "contact_email": "a@example.com", "external_ref": "T-42"}
    first = api.post(URL, payload)

    again = api.post(URL, {**payload, "contact_email": "someone.else@example.com"})

    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "conflict"
    assert list(body["fields"]) == ["external_ref"]
    assert f"invitation {first.json()['id']}" in body["fields"]["external_ref"][0]
    assert "another contact" in body["fields"]["external_ref"][0]
    assert "survey_url" not in body, "the other person's link is never handed out"
    assert Invitation.objects.filter(organization=org).count() == 1
    assert not Contact.objects.filter(email="someone.else@example.com").exists()


def test_without_an_external_ref_each_post_is_a_new_invitation(api, org, survey):
    payload = {"survey": survey.pk, "contact_email": "a@example.com"}

    first = api.post(URL, payload)
    second = api.post(URL, payload)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert Contact.objects.filter(organization=org).count() == 1, "the contact is reused"


def test_an_external_ref_is_scoped_to_the_organization(api, outsider_api, org, other_org):
    ours = SurveyFactory(organization=org, status="active")
    theirs = SurveyFactory(organization=other_org, status="active")

    mine = api.post(URL, {"survey": ours.pk, "contact_email": "a@x.com", "external_ref": "R1"})
    other = outsider_api.post(
        URL, {"survey": theirs.pk, "contact_email": "a@x.com", "external_ref": "R1"}
    )

    assert (mine.status_code, other.status_code) == (201, 201)
    assert mine.json()["id"] != other.json()["id"]


def test_the_token_is_long_random_and_the_link_expires(api, survey, settings):
    tokens = []
    for n in range(20):
        body = api.post(URL, {"survey": survey.pk, "contact_email": f"c{n}@example.com"}).json()
        invitation = Invitation.objects.get(pk=body["id"])
        tokens.append(invitation.token)
        org_part, secret = invitation.token.split(".")
        assert org_part == str(survey.organization_id), "the token names its organization"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret), "256 bits, URL-safe"
        expires = timezone.datetime.fromisoformat(body["expires_at"])
        expected = invitation.created_at + settings.CX_INVITATION_TTL
        assert abs((expires - expected).total_seconds()) < 2
    assert len(set(tokens)) == 20
    assert len(set("".join(t.split(".")[1] for t in tokens))) > 50, "random, not a counter"


def test_expiry_can_be_chosen_in_days(api, survey):
    body = api.post(
        URL, {"survey": survey.pk, "contact_email": "a@example.com", "expires_in_days": 3}
    ).json()

    expires = timezone.datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=2, hours=23) < expires - timezone.now() <= timedelta(days=3)


def test_send_email_false_hands_the_link_over_without_an_email(api, survey, mailoutbox):
    response = api.post(
        URL, {"survey": survey.pk, "contact_email": "a@example.com", "send_email": False}
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["channel"]) == ("sent", "link")
    assert body["sent_at"] is not None
    assert mailoutbox == []


def test_an_unsubscribed_contact_gets_no_email(
    api, org, survey, mailoutbox, django_capture_on_commit_callbacks
):
    ContactFactory(organization=org, email="gone@example.com", unsubscribed_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        body = api.post(URL, {"survey": survey.pk, "contact_email": "gone@example.com"}).json()

    invitation = Invitation.objects.get(pk=body["id"])
    assert (invitation.status, invitation.suppression_reason) == ("suppressed", "unsubscribed")
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"contact_email": "a@example.com"}, "survey"),
        ({"survey": 999999, "contact_email": "a@example.com"}, "survey"),
        ({"survey": "abc", "contact_email": "a@example.com"}, "survey"),
        ({"survey": "SURVEY", "contact_email": "not-an-email"}, "contact_email"),
        ({"survey": "SURVEY"}, "contact_email"),
        ({"survey": "SURVEY", "contact_email": "a@x.com", "touchpoint": 999999}, "touchpoint"),
        ({"survey": "SURVEY", "contact_email": "a@x.com", "employee": 999999}, "employee"),
        ({"survey": "SURVEY", "contact_email": "a@x.com", "expires_in_days": 0}, "expires_in_days"),
        ({"survey": "SURVEY", "contact_email": "a@x.com", "locale": "klingon"}, "locale"),
        (
            {"survey": "SURVEY", "contact_email": "a@x.com", "external_ref": "x" * 201},
            "external_ref",
        ),
    ],
)
def test_invalid_input_is_a_400_naming_the_field(api, survey, payload, field):
    payload = {k: survey.pk if v == "SURVEY" else v for k, v in payload.items()}

    response = api.post(URL, payload, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"], response.json()
    assert not Invitation.objects.exists()


def test_another_organizations_survey_touchpoint_or_employee_is_not_found(
    api, org, other_org, survey
):
    theirs = SurveyFactory(organization=other_org, status="active")
    their_touchpoint = TouchpointFactory(organization=other_org)
    their_employee = EmployeeFactory(organization=other_org)

    for payload, field in [
        ({"survey": theirs.pk}, "survey"),
        ({"survey": survey.pk, "touchpoint": their_touchpoint.pk}, "touchpoint"),
        ({"survey": survey.pk, "employee": their_employee.pk}, "employee"),
    ]:
        response = api.post(URL, {**payload, "contact_email": "a@example.com"})
        assert response.status_code == 400
        assert "in your organization" in response.json()["fields"][field][0]
    assert not Invitation.objects.exists()


def test_a_survey_that_is_not_active_cannot_be_triggered(api, org):
    draft = SurveyFactory(organization=org, status="draft")

    response = api.post(URL, {"survey": draft.pk, "contact_email": "a@example.com"})

    assert response.status_code == 400
    assert "not active" in response.json()["fields"]["survey"][0]


def test_listing_and_reading_invitations_with_filters(api, outsider_api, org, survey):
    contact = ContactFactory(organization=org)
    mine = InvitationFactory(organization=org, survey=survey, contact=contact, external_ref="A")
    InvitationFactory(organization=org, status="sent")

    listed = api.get(URL, {"external_ref": "A"}).json()["results"]
    assert [i["id"] for i in listed] == [mine.pk]
    assert [i["id"] for i in api.get(URL, {"contact": contact.pk}).json()["results"]] == [mine.pk]
    assert len(api.get(URL, {"status": "sent"}).json()["results"]) == 1
    detail = api.get(f"{URL}{mine.pk}/")
    assert detail.status_code == 200
    assert detail.json()["survey_url"].endswith(f"/s/{mine.token}/")
    assert outsider_api.get(f"{URL}{mine.pk}/").status_code == 404
    assert api.patch(f"{URL}{mine.pk}/", {"status": "responded"}).status_code == 405
    assert api.delete(f"{URL}{mine.pk}/").status_code == 405


def test_a_read_only_key_cannot_trigger_surveys(api_client_for, org, survey):
    viewer_api = api_client_for(org, Role.VIEWER)

    response = viewer_api.post(URL, {"survey": survey.pk, "contact_email": "a@example.com"})

    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_the_schema_documents_both_outcomes_of_a_trigger(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()

    post = schema["paths"]["/api/v1/invitations/"]["post"]
    assert {"200", "201", "400", "409"} <= set(post["responses"])


@pytest.mark.django_db(transaction=True)
def test_concurrent_triggers_with_one_external_ref_make_one_invitation(
    require_postgres, api_client_for, org
):
    survey = SurveyFactory(organization=org, status="active")
    clients = [api_client_for(org) for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    results: list[tuple[int, int]] = []

    def trigger(client):
        barrier.wait()
        try:
            response = client.post(
                URL, {"survey": survey.pk, "contact_email": "race@example.com", "external_ref": "R"}
            )
            results.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in results) == [200] * 5 + [201]
    assert len({pk for _, pk in results}) == 1
    assert Invitation.objects.filter(organization=org).count() == 1
    assert Contact.objects.filter(organization=org).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_triggers_of_one_external_ref_for_different_contacts_conflict(
    require_postgres, api_client_for, org
):
    survey = SurveyFactory(organization=org, status="active")
    clients = [api_client_for(org) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def trigger(n, client):
        barrier.wait()
        try:
            response = client.post(
                URL,
                {"survey": survey.pk, "contact_email": f"p{n}@example.com", "external_ref": "R"},
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409, 409, 409]
    assert Invitation.objects.filter(organization=org).count() == 1
    assert Contact.objects.filter(organization=org).count() == 1, "the losers' contacts roll back"
