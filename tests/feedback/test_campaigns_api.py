"""The campaigns API (``/api/v1/campaigns/``, its transitions and preview), segments, and
delivery reports (``/api/v1/deliveries/``, ``POST /api/v1/deliveries/bounces/``)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cxplatform.models import Role
from feedback.models import Campaign, CampaignStatus, Contact, Invitation, InvitationStatus
from tests.feedback.factories import (
    CampaignFactory,
    ContactFactory,
    InvitationFactory,
    ResponseFactory,
    SegmentFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(org):
    return SurveyFactory(organization=org)


def test_an_integration_creates_a_draft_campaign(api, survey):
    response = api.post(
        "/api/v1/campaigns/",
        {
            "name": "Onboarding NPS",
            "survey": survey.pk,
            "audience_type": "filter",
            "audience_filter": {"attributes": {"plan": "pro"}},
            "fatigue_days": 14,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["audience_filter"] == {"attributes": {"plan": "pro"}}
    assert body["progress"]["total"] == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"audience_type": "filter", "audience_filter": {"password": "x"}}, "audience_filter"),
        ({"subject": "{{ contact.secret }}"}, "subject"),
        ({"audience_type": "segment"}, "segment"),
        ({"reminder_after_days": -1}, "reminder_after_days"),
    ],
)
def test_invalid_campaigns_are_a_400_naming_the_field(api, survey, payload, field):
    response = api.post(
        "/api/v1/campaigns/", {"name": "x", "survey": survey.pk, **payload}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_another_organizations_survey_or_segment_does_not_exist_for_the_api(api, other_org, survey):
    theirs = SurveyFactory(organization=other_org)
    response = api.post("/api/v1/campaigns/", {"name": "x", "survey": theirs.pk}, format="json")
    assert response.status_code == 400
    assert "survey" in response.json()["fields"]
    segment = SegmentFactory(organization=other_org)
    response = api.post(
        "/api/v1/campaigns/",
        {"name": "x", "survey": survey.pk, "audience_type": "segment", "segment": segment.pk},
        format="json",
    )
    assert "segment" in response.json()["fields"]


def test_launch_preview_and_progress_through_the_api(
    api, org, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(organization=org)
    ContactFactory.create_batch(3, organization=org)
    ContactFactory(organization=org, unsubscribed_at="2026-01-01T00:00:00Z")
    preview = api.get(f"/api/v1/campaigns/{campaign.pk}/preview/").json()
    assert (preview["eligible"], preview["total"]) == (3, 4)
    assert preview["suppressed"] == {"unsubscribed": 1}
    assert len(preview["sample"]) == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 200
    detail = api.get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert detail["status"] == "sent"
    assert detail["progress"]["sent"] == 3
    assert detail["progress"]["suppressed"] == {"unsubscribed": 1}
    assert detail["progress"]["response_rate"] == 0.0
    assert len(mailoutbox) == 3
    listed = api.get("/api/v1/campaigns/?status=sent").json()
    assert [c["id"] for c in listed["results"]] == [campaign.pk]
    assert listed["results"][0]["progress"] is None  # lists stay one query


def test_the_progress_tells_completed_from_partial_responses(api, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENT)
    invitations = InvitationFactory.create_batch(
        4,
        organization=org,
        campaign=campaign,
        survey=campaign.survey,
        status=InvitationStatus.SENT,
        sent_at=timezone.now(),
    )
    for invitation, completed in [(invitations[0], True), (invitations[1], False)]:
        ResponseFactory(
            organization=org,
            survey=campaign.survey,
            contact=invitation.contact,
            invitation=invitation,
            completed=completed,
        )
        Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.RESPONDED)

    progress = api.get(f"/api/v1/campaigns/{campaign.pk}/").json()["progress"]

    assert (progress["started"], progress["completed"], progress["partial"]) == (2, 1, 1)
    assert progress["response_rate"] == 25.0


def test_a_campaign_that_cannot_launch_is_a_400_with_the_reason(api, org):
    campaign = CampaignFactory(organization=org)
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 400
    assert "audience is empty" in str(response.json())


def test_pause_resume_and_cancel_through_the_api(api, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    InvitationFactory(organization=org, campaign=campaign, survey=campaign.survey)
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/pause/").json()["status"] == "paused"
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/resume/").json()["status"] == "sending"
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/cancel/").json()["status"] == "cancelled"
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/pause/").status_code == 400


def test_a_read_only_key_cannot_launch(api_client_for, org):
    campaign = CampaignFactory(organization=org)
    reader = api_client_for(org, Role.VIEWER)
    assert reader.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 200
    assert reader.post(f"/api/v1/campaigns/{campaign.pk}/launch/").status_code == 403


def test_another_organizations_campaign_is_a_404(outsider_api, org):
    campaign = CampaignFactory(organization=org)
    assert outsider_api.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == 404
    assert outsider_api.post(f"/api/v1/campaigns/{campaign.pk}/launch/").status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_only_a_draft_is_deleted_and_a_started_campaign_is_not_edited(api, org):
    sent = CampaignFactory(organization=org, status=CampaignStatus.SENT)
    assert api.delete(f"/api/v1/campaigns/{sent.pk}/").status_code == 400
    assert api.patch(f"/api/v1/campaigns/{sent.pk}/", {"name": "x"}).status_code == 400
    draft = CampaignFactory(organization=org)
    assert api.patch(f"/api/v1/campaigns/{draft.pk}/", {"name": "Renamed"}).json()["name"] == (
        "Renamed"
    )
    assert api.delete(f"/api/v1/campaigns/{draft.pk}/").status_code == 204


def test_a_list_audience_takes_contact_ids_of_the_organization(api, org, other_org, survey):
    mine = ContactFactory(organization=org)
    theirs = ContactFactory(organization=other_org)
    response = api.post(
        "/api/v1/campaigns/",
        {"name": "x", "survey": survey.pk, "audience_type": "list", "listed_contacts": [theirs.pk]},
        format="json",
    )
    assert response.status_code == 400
    response = api.post(
        "/api/v1/campaigns/",
        {"name": "x", "survey": survey.pk, "audience_type": "list", "listed_contacts": [mine.pk]},
        format="json",
    )
    assert response.json()["listed_contacts"] == [mine.pk]


def test_segments_crud(api, org):
    created = api.post(
        "/api/v1/segments/", {"name": "Germany", "filter": {"locale": "de"}}, format="json"
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api.post("/api/v1/segments/", {"name": "germany"}, format="json").status_code == 400
    bad = api.patch(f"/api/v1/segments/{pk}/", {"filter": {"nope": 1}}, format="json")
    assert bad.status_code == 400
    assert api.get("/api/v1/segments/").json()["count"] == 1
    assert api.delete(f"/api/v1/segments/{pk}/").status_code == 204


@pytest.mark.parametrize(
    "audience_filter",
    [{"attributes": {"plan": "pro\u0000"}}, {"locale": "d\u0000e"}],
)
def test_a_nul_character_in_an_audience_filter_is_a_field_error(api, survey, audience_filter):
    """PostgreSQL's jsonb refuses \u0000: saving it was a 500 there."""
    segment = api.post(
        "/api/v1/segments/", {"name": "Pro", "filter": audience_filter}, format="json"
    )
    campaign = api.post(
        "/api/v1/campaigns/",
        {
            "name": "Pro NPS",
            "survey": survey.pk,
            "audience_type": "filter",
            "audience_filter": audience_filter,
        },
        format="json",
    )

    assert segment.status_code == 400
    assert "NUL character" in segment.json()["fields"]["filter"][0]
    assert campaign.status_code == 400
    assert "NUL character" in campaign.json()["fields"]["audience_filter"][0]
    assert not Campaign.objects.exists()


def test_a_bounce_report_suppresses_the_address(api, org):
    invitation = InvitationFactory(
        organization=org, status=InvitationStatus.SENT, message_id="<invitation-1.abc@x>"
    )
    response = api.post(
        "/api/v1/deliveries/bounces/",
        {"message_id": "invitation-1.abc@x", "detail": "550 5.1.1 user unknown"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "bounce"
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.BOUNCED
    assert Contact.objects.get(pk=invitation.contact_id).bounced_at is not None
    events = api.get("/api/v1/deliveries/?kind=bounce").json()
    assert events["count"] == 1


def test_a_complaint_by_email_unsubscribes(api, org):
    contact = ContactFactory(organization=org, email="ann@example.com")
    response = api.post(
        "/api/v1/deliveries/bounces/",
        {"kind": "complaint", "email": "ANN@example.com"},
        format="json",
    )
    assert response.status_code == 201
    assert Contact.objects.get(pk=contact.pk).unsubscribed_at is not None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"invitation": 999999},
        {"message_id": "<nope@x>"},
        {"email": "nobody@example.com"},
        {"kind": "open", "email": "ann@example.com"},
    ],
)
def test_a_report_that_matches_nothing_is_a_400(api, org, payload):
    ContactFactory(organization=org, email="ann@example.com")
    assert api.post("/api/v1/deliveries/bounces/", payload, format="json").status_code == 400


def test_a_report_cannot_reach_another_organizations_invitation(outsider_api, org):
    invitation = InvitationFactory(organization=org, status=InvitationStatus.SENT)
    response = outsider_api.post(
        "/api/v1/deliveries/bounces/", {"invitation": invitation.pk}, format="json"
    )
    assert response.status_code == 400
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.SENT


def test_the_api_writes_exactly_the_campaign_fields_the_services_take():
    """One list (CAMPAIGN_FIELDS): a field added for the form is writable by the API too."""
    from feedback.api.campaigns import CampaignSerializer
    from feedback.services.campaigns import CAMPAIGN_FIELDS

    writable = {name for name, f in CampaignSerializer().fields.items() if not f.read_only}
    assert writable == {*CAMPAIGN_FIELDS, "listed_contacts"}
