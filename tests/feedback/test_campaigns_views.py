"""Campaign pages: list, form, preview, launch and the other transitions, the progress
page and its htmx fragments, segments; who may do what."""

from __future__ import annotations

import html
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from cxplatform.services import SYSTEM
from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus, Segment
from journeys import services as journey_services
from tests.feedback.factories import (
    CampaignFactory,
    ContactFactory,
    InvitationFactory,
    ResponseFactory,
    SegmentFactory,
    SurveyFactory,
)
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


def _form_data(survey, **overrides):
    data = {
        "name": "Spring check-in",
        "survey": survey.pk,
        "touchpoint": "",
        "audience_type": "all",
        "segment": "",
        "locale": "",
        "company_contains": "",
        "email_endswith": "",
        "attributes": "",
        "list_emails": "",
        "subject": "How did we do, {{ contact.first_name }}?",
        "body": "Hi {{ contact.first_name }},\n\nThanks for choosing {{ company }}.",
        "send_mode": "now",
        "send_at": "",
        "reminder_after_days": 3,
        "max_reminders": 1,
        "fatigue_days": 30,
        "link_expiry_days": 30,
    }
    data.update(overrides)
    return data


def test_the_campaign_list_shows_campaigns_of_the_organization_only(
    viewer, org, other_org, django_assert_max_num_queries
):
    mine = CampaignFactory(organization=org, name="Mine")
    CampaignFactory(organization=other_org, name="Theirs")
    for _ in range(5):
        CampaignFactory(organization=org)
    with django_assert_max_num_queries(8):
        response = viewer.get(reverse("feedback:campaign_list"))
    assert response.status_code == 200
    assert mine.name in response.content.decode()
    assert "Theirs" not in response.content.decode()
    assert "New campaign" not in response.content.decode()  # viewers do not create


def test_the_campaign_list_filters_by_status_as_an_htmx_fragment(manager, org):
    CampaignFactory(organization=org, name="Draft one")
    CampaignFactory(organization=org, name="Sent one", status=CampaignStatus.SENT)
    response = manager.get(
        reverse("feedback:campaign_list"), {"status": "sent"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert "Sent one" in body
    assert "Draft one" not in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_a_manager_creates_a_draft_and_lands_on_the_preview(manager, org):
    survey = SurveyFactory(organization=org)
    response = manager.post(reverse("feedback:campaign_create"), _form_data(survey))
    campaign = Campaign.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:campaign_preview", args=[campaign.pk])
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.send_at is None


def test_an_invalid_campaign_form_is_shown_again_with_its_errors(manager, org):
    survey = SurveyFactory(organization=org)
    data = _form_data(
        survey, subject="Hi {{ contact.password }}", send_mode="later", audience_type="segment"
    )
    response = manager.post(reverse("feedback:campaign_create"), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "Unknown placeholder" in body
    assert "Choose when to send." in body
    assert "Choose the segment to send to." in body
    assert not Campaign.objects.exists()


def test_another_organizations_survey_cannot_be_chosen(manager, org, other_org):
    theirs = SurveyFactory(organization=other_org)
    response = manager.post(reverse("feedback:campaign_create"), _form_data(theirs))
    assert response.status_code == 422
    assert not Campaign.objects.exists()


def test_the_send_time_is_read_in_the_organizations_time_zone(manager, org):
    org.time_zone = "Europe/Berlin"
    org.save()
    survey = SurveyFactory(organization=org)
    tomorrow = timezone.now() + timedelta(days=1)
    local = f"{tomorrow:%Y-%m-%d}T10:00"
    manager.post(
        reverse("feedback:campaign_create"),
        _form_data(survey, send_mode="later", send_at=local),
    )
    campaign = Campaign.objects.get()
    berlin = campaign.send_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert (berlin.hour, berlin.minute) == (10, 0)


def test_a_filter_audience_is_built_from_the_form_fields(manager, org):
    survey = SurveyFactory(organization=org)
    manager.post(
        reverse("feedback:campaign_create"),
        _form_data(survey, audience_type="filter", locale="de", attributes="plan=pro\nregion=emea"),
    )
    campaign = Campaign.objects.get()
    assert campaign.audience_filter == {
        "locale": "de",
        "attributes": {"plan": "pro", "region": "emea"},
    }


def test_an_uploaded_list_keeps_the_known_contacts_and_names_the_others(manager, org):
    survey = SurveyFactory(organization=org)
    ann = ContactFactory(organization=org, email="ann@example.com")
    response = manager.post(
        reverse("feedback:campaign_create"),
        _form_data(survey, audience_type="list", list_emails="ann@example.com\nnobody@example.com"),
        follow=True,
    )
    campaign = Campaign.objects.get()
    assert list(campaign.listed_contacts.all()) == [ann]
    assert "nobody@example.com" in response.content.decode()


def test_viewers_and_agents_may_not_create_campaigns(viewer, agent, org):
    survey = SurveyFactory(organization=org)
    for client in (viewer, agent):
        assert client.get(reverse("feedback:campaign_create")).status_code == 403
        assert (
            client.post(reverse("feedback:campaign_create"), _form_data(survey)).status_code == 403
        )


def test_the_preview_shows_who_receives_it_and_who_is_left_out_and_why(viewer, org):
    campaign = CampaignFactory(organization=org)
    ContactFactory.create_batch(3, organization=org)
    ContactFactory(organization=org, unsubscribed_at=timezone.now())
    ContactFactory(organization=org, last_surveyed_at=timezone.now() - timedelta(days=2))
    response = viewer.get(reverse("feedback:campaign_preview", args=[campaign.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="eligible-count">3<' in body
    assert "Unsubscribed" in body
    assert "Surveyed in the last 30 days" in body
    assert "Launch now" not in body  # viewers see, managers launch


def test_the_preview_email_is_the_real_email_in_a_locked_down_frame(manager, org):
    campaign = CampaignFactory(organization=org, body="Hello {{ contact.name }}!")
    contact = ContactFactory(organization=org, name="Zoë <Admin>")
    response = manager.get(
        reverse("feedback:campaign_preview_email", args=[campaign.pk]), {"contact": contact.pk}
    )
    body = response.content.decode()
    assert "Hello Zoë &lt;Admin&gt;!" in body
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "/s/preview/10/" in body


def test_launching_sends_the_emails_and_shows_the_progress(
    manager, org, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(organization=org)
    ContactFactory.create_batch(4, organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(reverse("feedback:campaign_launch", args=[campaign.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:campaign_detail", args=[campaign.pk])
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert len(mailoutbox) == 4
    page = manager.get(response["Location"])
    assert 'data-kpi="sent"' in page.content.decode()


def test_a_campaign_that_cannot_launch_says_why(manager, org):
    campaign = CampaignFactory(
        organization=org, survey=SurveyFactory(organization=org, status="draft")
    )
    response = manager.post(reverse("feedback:campaign_launch", args=[campaign.pk]), follow=True)
    body = response.content.decode()
    assert "not active" in body
    assert "audience is empty" in body
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_the_progress_fragment_polls_while_sending_and_stops_when_done(manager, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    InvitationFactory.create_batch(2, organization=org, campaign=campaign, survey=campaign.survey)
    url = reverse("feedback:campaign_detail", args=[campaign.pk])
    fragment = manager.get(url, headers={"HX-Request": "true", "HX-Target": "progress"})
    body = fragment.content.decode()
    assert body.lstrip().startswith('<section id="progress"')
    assert 'hx-trigger="every 3s"' in body
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT)
    done = manager.get(url, headers={"HX-Request": "true", "HX-Target": "progress"})
    assert "hx-trigger" not in done.content.decode()


def test_the_invitations_fragment_filters_by_status(manager, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    InvitationFactory(
        organization=org,
        campaign=campaign,
        survey=campaign.survey,
        status=InvitationStatus.FAILED,
        last_error="550 No such user",
    )
    InvitationFactory(organization=org, campaign=campaign, survey=campaign.survey)
    response = manager.get(
        reverse("feedback:campaign_detail", args=[campaign.pk]),
        {"status": "failed"},
        headers={"HX-Request": "true", "HX-Target": "invitations"},
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="invitations"')
    assert "550 No such user" in body
    assert body.count("<tr>") == 2  # the header and the failed one


def test_the_progress_page_of_a_big_campaign_takes_a_bounded_number_of_queries(
    viewer, org, django_assert_max_num_queries
):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    InvitationFactory.create_batch(30, organization=org, campaign=campaign, survey=campaign.survey)
    with django_assert_max_num_queries(12):
        response = viewer.get(reverse("feedback:campaign_detail", args=[campaign.pk]))
    assert response.status_code == 200


def test_pause_resume_and_cancel_from_the_progress_page(manager, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    queued = InvitationFactory(organization=org, campaign=campaign, survey=campaign.survey)
    manager.post(reverse("feedback:campaign_pause", args=[campaign.pk]))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED
    assert Invitation.objects.get(pk=queued.pk).status == InvitationStatus.PENDING
    manager.post(reverse("feedback:campaign_cancel", args=[campaign.pk]))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CANCELLED
    queued.refresh_from_db()
    assert (queued.status, queued.suppression_reason) == (InvitationStatus.SUPPRESSED, "cancelled")
    response = manager.post(reverse("feedback:campaign_resume", args=[campaign.pk]), follow=True)
    assert "Only a paused campaign can be resumed." in response.content.decode()


def test_viewers_cannot_launch_pause_or_cancel(viewer, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    for name in ("campaign_launch", "campaign_pause", "campaign_cancel", "campaign_delete"):
        assert viewer.post(reverse(f"feedback:{name}", args=[campaign.pk])).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENDING


def test_another_organizations_campaign_is_a_404_everywhere(outsider, org):
    campaign = CampaignFactory(organization=org)
    for name in ("campaign_detail", "campaign_preview", "campaign_edit", "campaign_preview_email"):
        assert outsider.get(reverse(f"feedback:{name}", args=[campaign.pk])).status_code == 404
    assert outsider.post(reverse("feedback:campaign_launch", args=[campaign.pk])).status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT


def test_a_launched_campaign_is_no_longer_editable(manager, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENT)
    response = manager.get(reverse("feedback:campaign_edit", args=[campaign.pk]))
    assert response.status_code == 302


def test_editing_a_draft_keeps_its_audience_filter_in_the_form(manager, org):
    campaign = CampaignFactory(
        organization=org, audience_type="filter", audience_filter={"attributes": {"plan": "pro"}}
    )
    response = manager.get(reverse("feedback:campaign_edit", args=[campaign.pk]))
    assert "plan=pro" in response.content.decode()
    data = _form_data(
        campaign.survey, name="Renamed", audience_type="filter", attributes="plan=pro"
    )
    manager.post(reverse("feedback:campaign_edit", args=[campaign.pk]), data)
    campaign.refresh_from_db()
    assert campaign.name == "Renamed"
    assert campaign.audience_filter == {"attributes": {"plan": "pro"}}


def test_only_a_draft_can_be_deleted(manager, org):
    draft = CampaignFactory(organization=org)
    sent = CampaignFactory(organization=org, status=CampaignStatus.SENT)
    manager.post(reverse("feedback:campaign_delete", args=[draft.pk]))
    manager.post(reverse("feedback:campaign_delete", args=[sent.pk]))
    assert list(Campaign.objects.all()) == [sent]


def test_segments_are_listed_created_edited_and_deleted_by_managers(manager, viewer, org):
    ContactFactory(organization=org, attributes={"plan": "pro"})
    response = manager.post(
        reverse("feedback:segment_list"),
        {"name": "Pro customers", "description": "", "attributes": "plan=pro"},
    )
    assert response.status_code == 302
    segment = org_segment = Segment.objects.get()
    assert segment.filter == {"attributes": {"plan": "pro"}}
    page = viewer.get(reverse("feedback:segment_list")).content.decode()
    assert "Pro customers" in page
    assert "1</span> reachable contact" in page
    assert viewer.post(reverse("feedback:segment_list"), {"name": "x"}).status_code == 403
    manager.post(
        reverse("feedback:segment_edit", args=[segment.pk]),
        {"name": "Pro", "description": "", "locale": "de"},
    )
    org_segment.refresh_from_db()
    assert (org_segment.name, org_segment.filter) == ("Pro", {"locale": "de"})
    manager.post(reverse("feedback:segment_delete", args=[segment.pk]))
    assert not Segment.objects.exists()


def test_a_segment_in_use_cannot_be_deleted(manager, org):
    segment = SegmentFactory(organization=org)
    CampaignFactory(organization=org, audience_type="segment", segment=segment)
    response = manager.post(reverse("feedback:segment_delete", args=[segment.pk]), follow=True)
    assert "used by a campaign" in response.content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_a_segment_with_a_broken_attribute_line_is_refused(manager, org):
    response = manager.post(
        reverse("feedback:segment_list"), {"name": "Bad", "attributes": "just-a-word"}
    )
    assert response.status_code == 422
    assert "name=value" in response.content.decode()
    assert not Segment.objects.exists()


def _campaign_with_one_completed_and_one_partial_response(org):
    """Four emails delivered; one person finished the survey, one stopped half-way."""
    campaign = CampaignFactory(organization=org, name="Autumn check-in", status="sent")
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
    return campaign


def _kpis(html: str) -> dict[str, str]:
    """{data-kpi: its figure} of a progress page."""
    pattern = r'data-kpi="([\w-]+)"(?:(?!data-kpi).)*?class="kpi-value">([\d,]+)<'
    return dict(re.findall(pattern, html, re.S))


def test_the_progress_page_tells_completed_from_partial_responses(viewer, org):
    campaign = _campaign_with_one_completed_and_one_partial_response(org)

    html = viewer.get(reverse("feedback:campaign_detail", args=[campaign.pk])).content.decode()

    kpis = _kpis(html)
    assert kpis["delivered"] == "4"
    assert kpis["started"] == "2"
    assert kpis["completed"] == "1"
    assert kpis["partial"] == "1"
    assert "Response rate 25.0%" in html
    assert ">Completed</span>" in html
    assert ">Partial</span>" in html


def test_the_campaign_list_shows_the_same_completed_count_and_rate_as_the_progress_page(
    viewer, org
):
    _campaign_with_one_completed_and_one_partial_response(org)

    html = viewer.get(reverse("feedback:campaign_list")).content.decode()

    cell = re.search(r'data-col="completed">(.*?)</td>', html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", cell).split() == ["1", "(25.0%)"]


def test_the_invitations_filter_by_completed_and_partial(viewer, org):
    campaign = _campaign_with_one_completed_and_one_partial_response(org)
    url = reverse("feedback:campaign_detail", args=[campaign.pk])

    for status in ("completed", "partial"):
        page = viewer.get(url, {"status": status})
        assert len(page.context["page"].object_list) == 1, status


def test_large_counts_on_the_campaign_pages_have_thousands_separators(viewer, org):
    campaign = CampaignFactory(organization=org, status="sent")
    InvitationFactory.create_batch(
        1200,
        organization=org,
        campaign=campaign,
        survey=campaign.survey,
        status=InvitationStatus.SENT,
        sent_at=timezone.now(),
    )

    detail = viewer.get(reverse("feedback:campaign_detail", args=[campaign.pk])).content.decode()
    listed = viewer.get(reverse("feedback:campaign_list")).content.decode()

    assert _kpis(detail)["sent"] == "1,200"
    assert re.search(r'data-col="invited">1,200<', listed)


def test_the_next_page_link_of_the_invitations_opens_the_next_page(viewer, org):
    campaign = CampaignFactory(organization=org, status="sent")
    InvitationFactory.create_batch(30, organization=org, campaign=campaign, survey=campaign.survey)
    url = reverse("feedback:campaign_detail", args=[campaign.pk])
    first = viewer.get(url, {"status": "pending"}).content.decode()

    href = html.unescape(re.search(r'<a class="page-link" href="([^"]*)"[^>]*>Next<', first)[1])
    target = urlsplit(urljoin(f"http://testserver{url}?status=pending", href))
    second = viewer.get(target.path, QueryDict(target.query))

    assert second.context["page"].number == 2
    assert second.context["status"] == "pending"


def test_touchpoints_of_archived_journeys_are_not_offered_for_a_campaign(manager, org):
    survey = SurveyFactory(organization=org)
    live = TouchpointFactory(organization=org, name="Checkout")
    retired = TouchpointFactory(organization=org, name="Catalogue request")
    journey_services.journey_archive(journey=retired.stage.journey, actor=SYSTEM)

    page = manager.get(reverse("feedback:campaign_create"))
    refused = manager.post(
        reverse("feedback:campaign_create"), _form_data(survey, touchpoint=retired.pk)
    )

    assert list(page.context["form"].fields["touchpoint"].queryset) == [live]
    assert "Catalogue request" not in page.content.decode()
    assert refused.status_code == 422
    assert not Campaign.objects.exists()


def test_a_draft_keeps_its_touchpoint_after_the_journey_is_archived(manager, org):
    retired = TouchpointFactory(organization=org, name="Catalogue request")
    campaign = CampaignFactory(organization=org, touchpoint=retired)
    journey_services.journey_archive(journey=retired.stage.journey, actor=SYSTEM)

    response = manager.post(
        reverse("feedback:campaign_edit", args=[campaign.pk]),
        _form_data(campaign.survey, name="Renamed", touchpoint=retired.pk),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.touchpoint) == ("Renamed", retired)


def test_the_campaign_list_and_its_progress_page_show_times_in_the_organizations_zone(viewer, org):
    org.time_zone = "Europe/Berlin"
    org.save()
    launched = datetime(2026, 11, 13, 9, 30, tzinfo=UTC)  # 10:30 in Berlin
    campaign = CampaignFactory(organization=org, status="sent", launched_at=launched)

    listed = viewer.get(reverse("feedback:campaign_list")).content.decode()
    fragment = viewer.get(
        reverse("feedback:campaign_list"), {"status": "sent"}, headers={"HX-Request": "true"}
    ).content.decode()
    detail = viewer.get(reverse("feedback:campaign_detail", args=[campaign.pk])).content.decode()

    assert "13 Nov 2026, 10:30" in listed
    assert "13 Nov 2026, 10:30" in fragment
    assert "Launched 13 Nov 2026, 10:30 CET" in detail
    assert "09:30" not in listed + fragment + detail


def test_the_filtered_invitations_fragment_marks_its_status_as_current(manager, org):
    campaign = CampaignFactory(organization=org, status=CampaignStatus.SENDING)
    InvitationFactory(organization=org, campaign=campaign, survey=campaign.survey)

    body = manager.get(
        reverse("feedback:campaign_detail", args=[campaign.pk]),
        {"status": "failed"},
        headers={"HX-Request": "true", "HX-Target": "invitations"},
    ).content.decode()

    current = re.findall(r'aria-current="true" href="\?status=(\w*)"', body)
    assert current == ["failed"], "the swapped fragment carries the filter bar"
    assert "No invitations with this status" in body


def test_the_survey_picker_names_the_kind_once(manager, org):
    SurveyFactory(organization=org, name="Employee pulse (eNPS)", kind="enps", status="active")
    SurveyFactory(organization=org, name="Onboarding", kind="nps", status="active")
    page = html.unescape(manager.get(reverse("feedback:campaign_create")).content.decode())
    assert "Employee pulse (eNPS)</option>" in page
    assert "(eNPS) (eNPS)" not in page
    assert "Onboarding (NPS)</option>" in page


def test_segments_and_campaigns_describe_their_filter_in_words(viewer, org):
    spec = {
        "company__icontains": "Redfern",
        "email__endswith": "@redfern.example",
        "locale": "de",
        "attributes": {"plan": "pro"},
    }
    SegmentFactory(organization=org, name="Redfern people", filter=spec)
    page = viewer.get(reverse("feedback:segment_list")).content.decode()
    assert "company__icontains" not in page
    assert "Company contains “Redfern”" in page
    assert "Email ends with “@redfern.example”" in page
    assert "Language is German (de)" in page
    assert "plan is “pro”" in page
    campaign = CampaignFactory(organization=org, audience_type="filter", audience_filter=spec)
    detail = viewer.get(reverse("feedback:campaign_detail", args=[campaign.pk])).content.decode()
    assert "company icontains" not in detail
    assert "Company contains “Redfern”" in detail
