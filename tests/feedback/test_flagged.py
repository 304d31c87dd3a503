"""Answers flagged as automated: one definition everywhere (left out of every figure,
shown apart as "flagged"), and a staff member may mark one genuine (audited), from the
response page (htmx) or the API."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cxplatform.models import AuditEvent, Role
from cxplatform.services import SYSTEM, Actor
from feedback import dashboard
from feedback.models import Response
from feedback.selectors import campaigns as campaign_selectors
from feedback.selectors import surveys as survey_selectors
from feedback.selectors import touchpoints as touchpoint_selectors
from feedback.services import flags
from tests.feedback.factories import (
    CampaignFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
)
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db

SCANNER = "known scanner user agent"


@pytest.fixture
def touchpoint(org):
    return TouchpointFactory(organization=org, name="Checkout")


@pytest.fixture
def survey(org, touchpoint):
    return SurveyFactory(organization=org, name="Checkout NPS", touchpoint=touchpoint)


@pytest.fixture
def answers(org, survey, touchpoint):
    """Two genuine answers and one flagged as automated, on the same survey and touchpoint."""
    genuine = [
        ResponseFactory(organization=org, survey=survey, touchpoint=touchpoint, primary_score=s)
        for s in (10, 2)
    ]
    flagged = ResponseFactory(
        organization=org,
        survey=survey,
        touchpoint=touchpoint,
        primary_score=0,
        flagged_automated=True,
        flag_reason=SCANNER,
    )
    return genuine, flagged


def test_the_dashboard_card_and_the_chart_count_the_same_answers(org, answers):
    card = next(c for c in dashboard.cards(org=org) if c["label"] == "Responses")
    chart = dashboard.weekly_responses(org=org)
    charted = sum(chart["happy"]) + sum(chart["neutral"]) + sum(chart["unhappy"])
    assert card["value"] == charted == 2
    assert "1 unhappy" in card["hint"]
    assert "1 flagged" in card["hint"]


def test_the_latest_answers_leave_the_flagged_out(org, answers):
    _, flagged = answers
    latest = next(p for p in dashboard.panels(org=org) if "responses" in p)["responses"]
    assert flagged not in latest
    assert len(latest) == 2


def test_a_touchpoints_survey_row_counts_what_the_dashboard_counts(org, touchpoint, answers):
    (row,) = touchpoint_selectors.surveys_for_touchpoint(org=org, touchpoint=touchpoint)
    assert row.response_count == 2
    assert row.flagged_count == 1


def test_the_survey_list_counts_the_same(org, answers):
    (row,) = survey_selectors.survey_list(org=org)
    assert (row.response_count, row.flagged_count) == (2, 1)


def test_the_pages_show_the_flagged_apart(viewer, touchpoint, survey, answers):
    page = viewer.get(reverse("journeys:touchpoint_detail", args=[touchpoint.pk])).content
    assert "2 responses · 1 flagged" in re.sub(r"<[^>]+>", "", page.decode())
    page = viewer.get(reverse("feedback:survey_list")).content.decode()
    assert "1 flagged" in page
    dash = viewer.get(reverse("dashboard")).content.decode()
    assert "1 flagged" in dash


def test_a_campaigns_completed_answers_leave_the_flagged_out(org, survey):
    campaign = CampaignFactory(organization=org, survey=survey)
    for flagged in (False, True):
        invitation = InvitationFactory(
            organization=org, campaign=campaign, survey=survey, status="responded"
        )
        ResponseFactory(
            organization=org,
            survey=survey,
            invitation=invitation,
            contact=invitation.contact,
            flagged_automated=flagged,
            flag_reason=SCANNER if flagged else "",
        )
    progress = campaign_selectors.campaign_progress(campaign=campaign)
    assert (progress.completed, progress.flagged, progress.partial) == (1, 1, 0)


# ---------------------------------------------------------------------- mark genuine


def test_marking_a_flagged_answer_genuine_counts_it_and_is_audited(org, manager_user, answers):
    _, flagged = answers
    flags.response_mark_genuine(response=flagged, actor=Actor(user=manager_user))
    flagged.refresh_from_db()
    assert (flagged.flagged_automated, flagged.flag_reason) == (False, "")
    assert Response.objects.for_org(org).counted().count() == 3
    event = AuditEvent.objects.get(action="response.marked_genuine")
    assert event.actor_user == manager_user
    assert event.changes["flagged_automated"] == [True, False]
    assert event.changes["flag_reason"] == [SCANNER, ""]
    card = next(c for c in dashboard.cards(org=org) if c["label"] == "Responses")
    assert card["value"] == 3


def test_marking_genuine_twice_writes_one_audit_row(org, answers):
    _, flagged = answers
    flags.response_mark_genuine(response=flagged, actor=SYSTEM)
    flags.response_mark_genuine(response=flagged, actor=SYSTEM)
    assert AuditEvent.objects.filter(action="response.marked_genuine").count() == 1


def test_the_response_page_marks_it_genuine_with_an_htmx_button(manager, answers):
    _, flagged = answers
    url = reverse("feedback:response_detail", args=[flagged.pk])
    page = manager.get(url).content.decode()
    assert "Mark as genuine" in page
    action = reverse("feedback:response_mark_genuine", args=[flagged.pk])
    assert f'hx-post="{action}"' in page
    fragment = manager.post(action, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Marked as genuine" in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    flagged.refresh_from_db()
    assert flagged.flagged_automated is False
    # Without JavaScript: a plain POST comes back to the page.
    assert manager.post(action).status_code == 302


def test_viewers_cannot_mark_genuine_and_outsiders_get_a_404(viewer, outsider, answers):
    _, flagged = answers
    action = reverse("feedback:response_mark_genuine", args=[flagged.pk])
    assert viewer.post(action).status_code == 403
    assert outsider.post(action).status_code == 404
    assert (
        "Mark as genuine"
        not in viewer.get(reverse("feedback:response_detail", args=[flagged.pk])).content.decode()
    )
    flagged.refresh_from_db()
    assert flagged.flagged_automated is True


def test_the_api_marks_a_flagged_answer_genuine(org, api_client_for, answers):
    _, flagged = answers
    api = api_client_for(org, Role.MANAGER)
    result = api.post(f"/api/v1/responses/{flagged.pk}/mark-genuine/")
    assert result.status_code == 200
    body = result.json()
    assert body["flagged_automated"] is False
    assert body["flag_reason"] == ""
    assert AuditEvent.objects.get(action="response.marked_genuine").actor_api_key is not None


def test_the_api_refuses_a_viewer_and_hides_other_organizations(
    org, other_org, api_client_for, answers
):
    _, flagged = answers
    assert (
        api_client_for(org, Role.VIEWER)
        .post(f"/api/v1/responses/{flagged.pk}/mark-genuine/")
        .status_code
        == 403
    )
    assert (
        api_client_for(other_org, Role.MANAGER)
        .post(f"/api/v1/responses/{flagged.pk}/mark-genuine/")
        .status_code
        == 404
    )


def test_the_feed_lists_the_counted_answers_and_the_flagged_apart(viewer, answers):
    genuine, flagged = answers
    url = reverse("feedback:response_list")
    default = viewer.get(url).context["page"].object_list
    assert flagged not in default
    assert set(genuine) <= set(default)
    apart = viewer.get(url, {"show": "flagged"}).context["page"].object_list
    assert list(apart) == [flagged]
    assert (
        "Flagged as automated · not counted"
        in viewer.get(url, {"show": "flagged"}).content.decode()
    )


def test_a_contacts_response_count_leaves_the_flagged_out(org, survey):
    from feedback.selectors import contacts as contact_selectors

    genuine = ResponseFactory(organization=org, survey=survey, primary_score=7)
    ResponseFactory(
        organization=org,
        survey=survey,
        contact=genuine.contact,
        primary_score=0,
        flagged_automated=True,
        flag_reason=SCANNER,
    )
    (row,) = contact_selectors.contact_list(org=org)
    assert row.response_count == 1
    assert row.last_score == 7
