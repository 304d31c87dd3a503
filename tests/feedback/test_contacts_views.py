"""The contact pages: list with search and filters, the contact's page and its timeline,
the contact form, the import pages; as manager, viewer and outsider."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cxplatform.models import AuditEvent
from cxplatform.services import SYSTEM
from feedback.models import Contact, ContactImport, DeliveryEvent, ImportStatus, Invitation
from journeys import services as journey_services
from tests.feedback.factories import (
    ContactFactory,
    ContactImportFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
)
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db

LIST = reverse("feedback:contact_list")


def emails(response) -> list[str]:
    return [c.email for c in response.context["page"].object_list]


# --- list ------------------------------------------------------------------------------


def test_the_list_shows_the_organizations_contacts_to_every_member(viewer, org, other_org):
    ContactFactory(organization=org, email="ann@example.com", name="Ann Lee")
    ContactFactory(organization=other_org, email="zed@example.com")

    response = viewer.get(LIST)

    assert response.status_code == 200
    assert emails(response) == ["ann@example.com"]
    assert b"Ann Lee" in response.content
    assert b"zed@example.com" not in response.content
    assert b"New contact" not in response.content, "a viewer gets no write buttons"


def test_searching_finds_by_email_name_company_and_external_id(manager, org):
    ContactFactory(organization=org, email="ann@example.com", name="Ann", company="Lee Ltd")
    ContactFactory(organization=org, email="bob@shop.example", name="Bob", external_id="CRM-7")
    ContactFactory(organization=org, email="cy@example.com", name="Cyrus")

    assert emails(manager.get(LIST, {"q": "shop.example"})) == ["bob@shop.example"]
    assert emails(manager.get(LIST, {"q": "cyr"})) == ["cy@example.com"]
    assert emails(manager.get(LIST, {"q": "lee ltd"})) == ["ann@example.com"]
    assert emails(manager.get(LIST, {"q": "crm-7"})) == ["bob@shop.example"]


def test_filters_narrow_the_list(manager, org):
    now = timezone.now()
    de = ContactFactory(organization=org, email="de@example.com", locale="de-CH")
    ContactFactory(organization=org, email="gone@example.com", unsubscribed_at=now)
    ContactFactory(organization=org, email="bounced@example.com", bounced_at=now)
    pro = ContactFactory(organization=org, email="pro@example.com", attributes={"plan": "pro"})
    ResponseFactory(organization=org, contact=pro)
    ResponseFactory(organization=org, contact=de, completed=False, submitted_at=None)

    assert emails(manager.get(LIST, {"locale": "de"})) == ["de@example.com"]
    assert emails(manager.get(LIST, {"status": "unsubscribed"})) == ["gone@example.com"]
    assert emails(manager.get(LIST, {"status": "bounced"})) == ["bounced@example.com"]
    assert "gone@example.com" not in emails(manager.get(LIST, {"status": "subscribed"}))
    assert emails(manager.get(LIST, {"responded": "yes"})) == ["pro@example.com"]
    assert "pro@example.com" not in emails(manager.get(LIST, {"responded": "no"}))
    assert emails(manager.get(LIST, {"attribute": "plan=pro"})) == ["pro@example.com"]
    assert emails(manager.get(LIST, {"attribute": "Plan"})) == ["pro@example.com"]
    assert emails(manager.get(LIST, {"attribute": "plan=basic"})) == []


def test_an_attribute_filter_matches_numbers_set_through_the_api(manager, org):
    ContactFactory(organization=org, email="a@example.com", attributes={"seats": 5})
    ContactFactory(organization=org, email="b@example.com", attributes={"seats": "5"})
    ContactFactory(organization=org, email="c@example.com", attributes={"vip": True})

    assert emails(manager.get(LIST, {"attribute": "seats=5"})) == [
        "a@example.com",
        "b@example.com",
    ]
    assert emails(manager.get(LIST, {"attribute": "vip=true"})) == ["c@example.com"]
    assert manager.get(LIST, {"attribute": "seats=nan"}).status_code == 200


def test_the_list_shows_the_last_answer_of_each_contact(manager, org):
    contact = ContactFactory(organization=org)
    ResponseFactory(organization=org, contact=contact, primary_score=3, submitted_at=timezone.now())
    ResponseFactory(
        organization=org,
        contact=contact,
        primary_score=10,
        submitted_at=timezone.now() - timedelta(days=3),
    )

    row = manager.get(LIST).context["page"].object_list[0]

    assert (row.response_count, row.last_score, row.last_category) == (2, 3, "detractor")


def test_an_htmx_request_gets_only_the_table(manager, org):
    ContactFactory(organization=org, email="ann@example.com")

    response = manager.get(LIST, {"q": "ann"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.content.strip().startswith(b'<div id="contact-table"')
    assert b"<html" not in response.content
    assert "HX-Request" in response["Vary"]


def test_the_list_costs_a_fixed_number_of_queries(manager, org, django_assert_max_num_queries):
    for n in range(30):
        contact = ContactFactory(organization=org, attributes={"plan": "pro"})
        if n % 2:
            ResponseFactory(organization=org, contact=contact)

    with django_assert_max_num_queries(12):
        response = manager.get(LIST, {"q": "example", "ordering": "-created_at"})

    assert len(response.context["page"].object_list) == 25


def test_an_empty_organization_is_invited_to_import(manager):
    response = manager.get(LIST)

    assert b"No contacts yet" in response.content
    assert reverse("feedback:contact_import").encode() in response.content
    assert b'id="contact-filters"' not in response.content, "nothing to filter yet"


def test_a_bad_filter_value_drops_only_that_filter(manager, org):
    ContactFactory(organization=org, email="ann@example.com")
    ContactFactory(organization=org, email="bob@example.com")

    response = manager.get(LIST, {"status": "nonsense", "page": "x", "locale": "zz", "q": "ann"})

    assert response.status_code == 200
    assert emails(response) == ["ann@example.com"]


# --- detail and timeline ----------------------------------------------------------------


def test_the_contact_page_shows_profile_attributes_and_status(viewer, org):
    contact = ContactFactory(
        organization=org,
        email="ann@example.com",
        name="Ann Lee",
        company="Lee Ltd",
        attributes={"plan": "pro", "region": "north"},
        unsubscribed_at=timezone.now(),
        suppression_reason="Asked on the phone",
    )

    response = viewer.get(reverse("feedback:contact_detail", args=[contact.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    for text in ("Ann Lee", "Lee Ltd", "plan", "pro", "region", "Unsubscribed", "Asked on"):
        assert text in content
    assert reverse("feedback:contact_edit", args=[contact.pk]) not in content, "viewer"


def test_the_timeline_merges_invitations_responses_and_events_across_journeys(manager, org):
    now = timezone.now()
    contact = ContactFactory(organization=org)
    shop = TouchpointFactory(organization=org, name="Checkout", stage__journey__name="Shop")
    support = TouchpointFactory(organization=org, name="Hotline", stage__journey__name="Support")
    survey = SurveyFactory(organization=org, name="Relationship NPS")
    first = InvitationFactory(
        organization=org,
        contact=contact,
        survey=survey,
        touchpoint=shop,
        created_at=now - timedelta(days=10),
        sent_at=now - timedelta(days=10),
        status="responded",
    )
    ResponseFactory(
        organization=org,
        contact=contact,
        survey=survey,
        invitation=first,
        touchpoint=shop,
        primary_score=4,
        comment="The parcel came late.",
        submitted_at=now - timedelta(days=9),
    )
    second = InvitationFactory(
        organization=org,
        contact=contact,
        survey=survey,
        touchpoint=support,
        created_at=now - timedelta(days=2),
        status="bounced",
    )
    DeliveryEvent.objects.create(
        organization=org,
        invitation=second,
        contact=contact,
        kind="bounce",
        detail="550 mailbox unavailable",
        created_at=now - timedelta(days=1),
    )
    other = ContactFactory(organization=org)
    InvitationFactory(organization=org, contact=other, created_at=now)

    response = manager.get(reverse("feedback:contact_detail", args=[contact.pk]))

    entries = response.context["timeline"].entries
    assert [(e.kind, e.obj.pk) for e in entries] == [
        ("event", DeliveryEvent.objects.get().pk),
        ("invitation", second.pk),
        ("response", first.response.pk),
        ("invitation", first.pk),
    ]
    content = response.content.decode()
    assert "The parcel came late." in content
    assert "Email bounced" in content
    assert "Shop" in content
    assert "Support" in content
    summary = response.context["summary"]
    assert (summary.invitations, summary.responses) == (2, 1)
    assert summary.journeys == ["Shop", "Support"]


def test_the_timeline_pages_back_in_time(manager, org, django_assert_max_num_queries):
    now = timezone.now()
    contact = ContactFactory(organization=org)
    survey = SurveyFactory(organization=org)
    for day in range(45):
        InvitationFactory(
            organization=org,
            contact=contact,
            survey=survey,
            created_at=now - timedelta(days=day),
        )
    url = reverse("feedback:contact_detail", args=[contact.pk])

    with django_assert_max_num_queries(18):
        first = manager.get(url)

    page = first.context["timeline"]
    assert len(page.entries) == 30
    assert page.has_more
    older = manager.get(
        url, {"before": page.next_before.isoformat()}, headers={"HX-Request": "true"}
    )
    assert len(older.context["timeline"].entries) == 15
    assert not older.context["timeline"].has_more
    assert b"Added as a contact" in older.content
    assert b"<html" not in older.content


def test_a_contact_with_no_history_has_a_helpful_empty_timeline(viewer, org):
    contact = ContactFactory(organization=org)

    response = viewer.get(reverse("feedback:contact_detail", args=[contact.pk]))

    assert b"Nothing here yet" in response.content


def test_another_organizations_contact_is_not_found(outsider, org):
    contact = ContactFactory(organization=org)

    assert outsider.get(reverse("feedback:contact_detail", args=[contact.pk])).status_code == 404
    assert outsider.get(reverse("feedback:contact_edit", args=[contact.pk])).status_code == 404


def test_a_garbage_timeline_cursor_shows_the_first_page(viewer, org):
    contact = ContactFactory(organization=org)

    url = reverse("feedback:contact_detail", args=[contact.pk])
    assert viewer.get(url, {"before": "2024-99-99T99:00"}).status_code == 200


# --- create and edit --------------------------------------------------------------------


def test_a_manager_adds_a_contact_with_attributes(manager, org):
    response = manager.post(
        reverse("feedback:contact_create"),
        {
            "email": " New@Example.com ",
            "name": "New Person",
            "locale": "de_de",
            "time_zone": "Europe/Berlin",
            "subscribed": "on",
            "attribute_key": ["Plan", "Customer since", ""],
            "attribute_value": ["pro", "2020-01-01", ""],
        },
    )

    contact = Contact.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:contact_detail", args=[contact.pk])
    assert (contact.email, contact.locale) == ("new@example.com", "de-DE")
    assert contact.attributes == {"plan": "pro", "customer_since": "2020-01-01"}
    assert AuditEvent.objects.filter(action="contact.created").exists()


def test_a_duplicate_email_re_renders_the_form_with_the_error(manager, org):
    ContactFactory(organization=org, email="ann@example.com")

    response = manager.post(reverse("feedback:contact_create"), {"email": "ANN@example.com"})

    assert response.status_code == 422
    assert "already exists" in response.content.decode()
    assert Contact.objects.for_org(org).count() == 1


def test_invalid_fields_and_attributes_are_shown_on_the_form(manager, org):
    contact = ContactFactory(organization=org)

    response = manager.post(
        reverse("feedback:contact_edit", args=[contact.pk]),
        {
            "email": "not an email",
            "locale": "klingon",
            "attribute_key": ["", "plan", "PLAN"],
            "attribute_value": ["orphan", "a", "b"],
        },
    )

    content = response.content.decode()
    assert response.status_code == 422
    assert "Enter a valid email address." in content
    assert "Unknown locale" in content
    assert "has no name" in content
    assert "appears twice" in content
    assert 'value="orphan"' in content, "what was typed is kept"


def test_failed_saves_do_not_pile_up_empty_attribute_rows(manager, org):
    contact = ContactFactory(organization=org, attributes={"plan": "pro"})
    url = reverse("feedback:contact_edit", args=[contact.pk])

    def rows(html: str) -> list[tuple[str, str]]:
        tbody = html.split('id="attribute-rows"', 1)[1].split("</tbody>", 1)[0]
        keys = re.findall(r'name="attribute_key" value="([^"]*)"', tbody)
        values = re.findall(r'name="attribute_value" value="([^"]*)"', tbody)
        return list(zip(keys, values, strict=True))

    shown = rows(manager.get(url).content.decode())
    for _ in range(3):
        # Submit what the page shows (its spare empty row too), with an invalid email.
        response = manager.post(
            url,
            {
                "email": "not an email",
                "attribute_key": [k for k, _ in shown],
                "attribute_value": [v for _, v in shown],
            },
        )
        assert response.status_code == 422
        shown = rows(response.content.decode())

    assert shown == [("plan", "pro"), ("", "")]


def test_editing_changes_fields_removes_attributes_and_unsubscribes(manager, org):
    contact = ContactFactory(
        organization=org, email="ann@example.com", attributes={"plan": "pro", "seats": 5}
    )

    response = manager.post(
        reverse("feedback:contact_edit", args=[contact.pk]),
        {
            "email": "ann@example.com",
            "name": "Ann Lee",
            "locale": "en",
            "attribute_key": ["seats", "region"],
            "attribute_value": ["5", "north"],
        },
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "Ann Lee"
    assert contact.attributes == {"seats": 5, "region": "north"}, "plan removed, 5 kept a number"
    assert contact.unsubscribed_at is not None
    assert AuditEvent.objects.filter(action="contact.unsubscribed").exists()
    update = AuditEvent.objects.get(action="contact.updated")
    assert set(update.changes) == {"name", "attributes"}


def test_viewers_and_agents_may_not_add_or_edit_contacts(viewer, agent, org):
    contact = ContactFactory(organization=org, name="Before")

    for client in (viewer, agent):
        assert client.get(reverse("feedback:contact_create")).status_code == 403
        edit = reverse("feedback:contact_edit", args=[contact.pk])
        assert client.post(edit, {"email": "x@example.com"}).status_code == 403
    contact.refresh_from_db()
    assert contact.name == "Before"


# --- import pages -----------------------------------------------------------------------


def test_uploading_a_file_imports_it_and_shows_the_result_with_the_bad_rows(
    manager, org, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "people.csv", b"email,name\nann@example.com,Ann\nbroken,Bob\n", content_type="text/csv"
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(reverse("feedback:contact_import"), {"file": upload})

    contact_import = ContactImport.objects.get(organization=org)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "feedback:contact_import_detail", args=[contact_import.pk]
    )
    page = manager.get(response["Location"])
    content = page.content.decode()
    assert "Import finished" in content
    assert "Invalid email address “broken”." in content
    assert "hx-trigger" not in content, "a finished import stops polling"
    assert Contact.objects.for_org(org).count() == 1


def test_a_running_import_polls_for_its_progress(manager, org):
    contact_import = ContactImportFactory(
        organization=org, status=ImportStatus.RUNNING, total_rows=1000, processed_rows=250
    )
    url = reverse("feedback:contact_import_detail", args=[contact_import.pk])

    page = manager.get(url)
    fragment = manager.get(url, headers={"HX-Request": "true"})

    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert "250 of 1,000 rows (25%)" in page.content.decode()
    assert fragment.content.strip().startswith(b'<div id="import-status"')
    assert b"every 1s" in fragment.content


def test_a_failed_import_says_why(manager, org):
    contact_import = ContactImportFactory(
        organization=org, status=ImportStatus.FAILED, failure="The file has no email column."
    )

    page = manager.get(reverse("feedback:contact_import_detail", args=[contact_import.pk]))

    assert b"The file has no email column." in page.content


def test_an_empty_upload_is_refused_on_the_form(manager, org):
    upload = SimpleUploadedFile("empty.csv", b"", content_type="text/csv")

    response = manager.post(reverse("feedback:contact_import"), {"file": upload})

    assert response.status_code == 422
    assert not ContactImport.objects.exists()


def test_the_bad_rows_download_is_a_csv_with_the_reasons(manager, org):
    contact_import = ContactImportFactory(
        organization=org,
        content=b"email,name\nok@example.com,Ok\nnope,No\n",
        status=ImportStatus.DONE,
        errors=[{"row": 3, "email": "nope", "reason": "Invalid email address “nope”."}],
        error_count=1,
        filename="My list (v2).csv",
    )

    response = manager.get(reverse("feedback:contact_import_errors", args=[contact_import.pk]))

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="My_list__v2_-bad-rows.csv"' in response["Content-Disposition"]
    assert response.content.decode().splitlines() == [
        "import_row,import_error,email,name",
        "3,Invalid email address “nope”.,nope,No",
    ]


def test_imports_are_for_managers(viewer, agent, org):
    contact_import = ContactImportFactory(organization=org)

    for client in (viewer, agent):
        assert client.get(reverse("feedback:contact_import")).status_code == 403
        url = reverse("feedback:contact_import_detail", args=[contact_import.pk])
        assert client.get(url).status_code == 403


# --- sending a survey from the contact page -------------------------------------------------


def test_a_manager_emails_a_survey_to_a_contact_from_their_page(
    manager, org, mailoutbox, django_capture_on_commit_callbacks
):
    contact = ContactFactory(organization=org, email="ann@example.com")
    survey = SurveyFactory(organization=org, name="Relationship NPS", status="active")
    touchpoint = TouchpointFactory(organization=org, name="Hotline")
    page = manager.get(reverse("feedback:contact_detail", args=[contact.pk]))
    assert b"Email the survey now" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            reverse("feedback:contact_invite", args=[contact.pk]),
            {"survey": survey.pk, "touchpoint": touchpoint.pk},
        )

    assert response.status_code == 302
    invitation = Invitation.objects.get(contact=contact)
    assert (invitation.survey, invitation.touchpoint, invitation.status) == (
        survey,
        touchpoint,
        "sent",
    )
    assert [m.to for m in mailoutbox] == [["ann@example.com"]]
    timeline = manager.get(response["Location"]).context["timeline"]
    assert [e.obj for e in timeline.entries] == [invitation]


def test_a_survey_of_another_organization_cannot_be_sent(manager, org, other_org):
    contact = ContactFactory(organization=org)
    theirs = SurveyFactory(organization=other_org, status="active")

    manager.post(reverse("feedback:contact_invite", args=[contact.pk]), {"survey": theirs.pk})

    assert not Invitation.objects.exists()


def test_viewers_cannot_send_surveys_from_the_contact_page(viewer, org):
    contact = ContactFactory(organization=org)
    survey = SurveyFactory(organization=org, status="active")

    page = viewer.get(reverse("feedback:contact_detail", args=[contact.pk]))
    response = viewer.post(
        reverse("feedback:contact_invite", args=[contact.pk]), {"survey": survey.pk}
    )

    assert b"Email the survey now" not in page.content
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_touchpoints_of_archived_journeys_are_not_offered_when_sending_a_survey(manager, org):
    contact = ContactFactory(organization=org)
    SurveyFactory(organization=org, status="active")
    live = TouchpointFactory(organization=org, name="Hotline")
    retired = TouchpointFactory(organization=org, name="Fax line")
    journey_services.journey_archive(journey=retired.stage.journey, actor=SYSTEM)

    page = manager.get(reverse("feedback:contact_detail", args=[contact.pk]))
    offered = list(page.context["invite_form"].fields["touchpoint"].queryset)
    refused = manager.post(
        reverse("feedback:contact_invite", args=[contact.pk]),
        {"survey": SurveyFactory(organization=org, status="active").pk, "touchpoint": retired.pk},
    )

    assert offered == [live]
    assert "Fax line" not in page.content.decode()
    assert refused.status_code == 302
    assert not Invitation.objects.exists()


def test_the_contact_page_shows_times_in_the_organizations_zone(viewer, org):
    org.time_zone = "America/New_York"
    org.save()
    late = datetime(2026, 11, 14, 2, 15, tzinfo=UTC)  # 13 Nov, 21:15 in New York
    contact = ContactFactory(organization=org, created_at=late)
    InvitationFactory(organization=org, contact=contact, created_at=late)

    html = viewer.get(reverse("feedback:contact_detail", args=[contact.pk])).content.decode()

    assert "13 Nov 2026, 21:15" in html
    assert "Added as a contact on 13 Nov 2026" in html
    assert "02:15" not in html
