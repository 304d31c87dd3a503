"""Staff pages of the core, as owner, teammate, read-only member and outsider."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cxplatform.models import ApiKey, AuditEvent, Membership, Role
from tests.factories import MembershipFactory, OrganizationFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_signs_a_member_in(client, manager_user):
    response = client.post(
        reverse("login"), {"username": manager_user.email, "password": "pw"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Good to see you" in response.content.decode()


def test_a_user_without_an_organization_is_told_what_to_do(client, django_user_model):
    user = django_user_model.objects.create_user("new@example.com", "new@example.com", "pw")
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert "not a member of any organization" in response.content.decode()


def test_the_dashboard_shows_the_active_organization_and_navigation(manager):
    html = manager.get(reverse("dashboard")).content.decode()
    for label in [
        "Journeys",
        "Surveys",
        "Campaigns",
        "Contacts",
        "Responses",
        "Cases",
        "Scorecards",
        "Settings",
    ]:
        assert f"</i> {label}</a>" in html
    assert "Acme" in html


def test_a_member_of_two_organizations_switches_between_them(client, manager_user, other_org):
    MembershipFactory(organization=other_org, user=manager_user, role=Role.VIEWER)
    client.force_login(manager_user)
    assert "Switch" in client.get(reverse("dashboard")).content.decode()

    client.post(reverse("organization_switch"), {"organization": other_org.pk})
    response = client.get(reverse("settings_home"))
    assert response.context["current_org"] == other_org
    assert response.context["membership"].role == Role.VIEWER


def test_switching_to_an_organization_you_are_not_in_is_a_404(manager, other_org):
    response = manager.post(reverse("organization_switch"), {"organization": other_org.pk})
    assert response.status_code == 404


def test_the_switch_never_redirects_to_another_site(client, manager_user, org):
    client.force_login(manager_user)
    response = client.post(
        reverse("organization_switch"),
        {"organization": org.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("dashboard")


def test_an_admin_adds_a_member_and_it_is_audited(admin, org):
    team = TeamFactory(organization=org, name="Care")
    response = admin.post(
        reverse("member_list"),
        {
            "email": "New.Person@Acme.example",
            "name": "New Person",
            "role": "agent",
            "team": team.pk,
        },
    )
    assert response.status_code == 200
    membership = Membership.objects.get(user__email="new.person@acme.example")
    assert (membership.organization, membership.role, membership.team) == (org, "agent", team)
    assert AuditEvent.objects.filter(organization=org, action="membership.created").exists()


def test_a_viewer_sees_the_members_but_cannot_add_one(viewer, org):
    assert viewer.get(reverse("member_list")).status_code == 200
    response = viewer.post(reverse("member_list"), {"email": "x@acme.example", "role": "admin"})
    assert response.status_code == 403
    assert not Membership.objects.filter(user__email="x@acme.example").exists()


def test_an_invalid_team_form_comes_back_with_the_error(admin, org):
    TeamFactory(organization=org, name="Care")
    response = admin.post(reverse("team_list"), {"name": "care"})
    assert response.status_code == 422
    assert "A team with this name already exists." in response.content.decode()


@pytest.mark.parametrize(
    ("name", "error"),
    [("care", "A team with this name already exists."), ("   ", "This field is required.")],
)
def test_an_htmx_team_with_a_taken_or_empty_name_comes_back_as_the_form_with_its_error(
    admin, org, name, error
):
    TeamFactory(organization=org, name="Care")
    response = admin.post(reverse("team_list"), {"name": name}, headers={"HX-Request": "true"})
    # 422: app.js lets htmx swap it; the fragment holds the form, so the error shows.
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="teams-panel"' in html
    assert 'id="team-form"' in html
    assert error in html
    assert 'class="form-control is-invalid"' in html
    assert list(org.teams.values_list("name", flat=True)) == ["Care"]


def test_an_htmx_member_with_an_invalid_email_comes_back_with_its_error(admin, org):
    response = admin.post(
        reverse("member_list"),
        {"email": "not-an-email", "role": "viewer"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="member-form"' in html
    assert "Enter a valid email address." in html
    assert 'value="not-an-email"' in html


def test_the_team_list_answers_htmx_with_its_fragment_only(admin, org):
    TeamFactory(organization=org, name="Care")
    response = admin.get(reverse("team_list"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="teams"' in html
    assert "Care" in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_an_htmx_save_carries_its_message_out_of_band(admin):
    response = admin.post(reverse("team_list"), {"name": "Billing"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html
    assert "Team Billing created." in html


def test_a_new_api_key_is_shown_once_and_stored_hashed(admin, org):
    response = admin.post(reverse("api_key_list"), {"name": "Helpdesk", "role": "manager"})
    raw = response.context["new_key"]
    assert raw in response.content.decode()
    key = ApiKey.objects.get(organization=org, name="Helpdesk")
    assert key.hashed_key == ApiKey.hash(raw)
    assert raw not in admin.get(reverse("api_key_list")).content.decode()


def test_only_admins_manage_api_keys(manager):
    assert manager.get(reverse("api_key_list")).status_code == 403


def test_revoking_a_key_from_the_settings(admin, org):
    from cxplatform import services

    key, _ = services.api_key_create(org=org, name="Old")
    admin.post(reverse("api_key_revoke", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_audit_log_lists_who_changed_what(admin, org, admin_user_):
    admin.post(reverse("team_list"), {"name": "Billing"})
    response = admin.get(reverse("audit_log"), {"action": "team."})
    events = list(response.context["page"].object_list)
    assert [e.action for e in events] == ["team.created"]
    assert events[0].actor_user == admin_user_


def test_the_audit_log_page_has_a_bounded_number_of_queries(
    admin, org, django_assert_max_num_queries
):
    for n in range(20):
        TeamFactory(organization=org, name=f"T{n}")
        admin.post(reverse("team_list"), {"name": f"Team {n}"})
    with django_assert_max_num_queries(12):
        admin.get(reverse("audit_log"))


def test_an_unknown_page_is_a_friendly_404(admin):
    response = admin.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_pages_send_a_content_security_policy_with_a_script_nonce(admin):
    policy = admin.get(reverse("dashboard"))["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "frame-ancestors 'none'" in policy


def test_a_teammate_from_another_org_cannot_remove_members(outsider, org):
    membership = MembershipFactory(organization=org)
    assert outsider.post(reverse("member_remove", args=[membership.pk])).status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_organizations_are_isolated_in_the_members_page(admin, org):
    other = OrganizationFactory()
    stranger = MembershipFactory(organization=other)
    assert stranger.user.email not in admin.get(reverse("member_list")).content.decode()


def test_a_forgotten_password_is_reset_through_the_emailed_link(client, manager_user, mailoutbox):
    client.post(reverse("password_reset"), {"email": manager_user.email})
    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password-reset/" in line)
    path = link[link.index("/accounts/") :].strip()
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert client.login(username=manager_user.username, password="a-new-long-passphrase")


def test_the_dashboard_counts_this_organizations_feedback_only(manager, org, other_org):
    from tests.feedback.factories import ContactFactory, ResponseFactory

    ResponseFactory(organization=org, primary_score=3)
    ResponseFactory(organization=org, primary_score=10)
    ContactFactory(organization=org)
    ResponseFactory(organization=other_org)
    cards = {c["label"]: c for c in manager.get(reverse("dashboard")).context["sections"]}
    assert cards["Responses"]["value"] == 2
    assert cards["Responses"]["hint"] == "in the last 30 days · 1 unhappy"
    assert cards["Contacts"]["value"] == 3


def test_the_campaigns_card_shows_every_campaign_and_the_active_ones(manager, org, other_org):
    from feedback.models import CampaignStatus
    from tests.feedback.factories import CampaignFactory

    for status in ["draft", "sent", "sent", "sending", "scheduled", "scheduled", "paused"]:
        CampaignFactory(organization=org, status=status)
    CampaignFactory(organization=other_org, status=CampaignStatus.SENDING)
    response = manager.get(reverse("dashboard"))
    cards = {c["label"]: c for c in response.context["sections"]}
    assert cards["Campaigns"]["value"] == 7
    assert cards["Campaigns"]["hint"] == "3 active (1 sending, 2 scheduled)"


def test_dashboard_counts_have_thousands_separators(manager, org):
    from feedback.models import Contact

    Contact.objects.bulk_create(
        Contact(organization=org, email=f"c{n}@example.com") for n in range(1234)
    )
    html = manager.get(reverse("dashboard")).content.decode()
    assert '<div class="display-6 fw-semibold mt-2">1,234</div>' in html


def test_an_admin_changes_the_organizations_time_zone_and_language(admin, org):
    response = admin.post(
        reverse("settings_home"),
        {"name": "Acme", "time_zone": "Europe/Paris", "default_locale": "fr", "sender_name": ""},
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.time_zone, org.default_locale) == ("Europe/Paris", "fr")


@pytest.mark.parametrize(
    ("field", "value"), [("time_zone", "Mars/Olympus_Mons"), ("default_locale", "xx")]
)
def test_a_bogus_time_zone_or_language_comes_back_with_the_error(admin, org, field, value):
    data = {"name": "Acme", "time_zone": "UTC", "default_locale": "en", field: value}
    response = admin.post(reverse("settings_home"), data)
    assert response.status_code == 422
    assert list(response.context["form"].errors) == [field]
    assert "Select a valid choice." in response.content.decode()
    org.refresh_from_db()
    assert (org.time_zone, org.default_locale) == ("UTC", "en")


def test_staff_pages_show_times_in_the_organizations_time_zone(admin, org, api_client_for):
    from datetime import UTC, datetime

    org.time_zone = "America/New_York"
    org.save()
    AuditEvent.objects.create(
        organization=org, action="team.created", created_at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    )
    html = admin.get(reverse("audit_log")).content.decode()
    assert "15 Jan 2026, 07:00" in html  # 12:00 UTC is 07:00 in New York in January
    assert "15 Jan 2026, 12:00" not in html
    # The zone does not stick to the thread: the API, next, still speaks UTC.
    api = api_client_for(org, Role.ADMIN)
    created = api.post("/api/v1/teams/", {"name": "Later"}).json()["created_at"]
    assert created.endswith(("Z", "+00:00"))


def test_a_time_shown_in_one_organization_does_not_leak_into_the_next_request(admin, org, client):
    from django.utils import timezone

    org.time_zone = "Asia/Tokyo"
    org.save()
    admin.get(reverse("dashboard"))
    assert timezone.get_current_timezone_name() == "UTC"
