"""The API's shared behaviour: keys, the caller's organization, roles, errors, schema."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from cxplatform import services
from cxplatform.models import ApiKey, AuditEvent, Role, Team
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_a_request_without_a_key_is_told_to_authenticate():
    response = APIClient().get("/api/v1/teams/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"


def test_an_unknown_key_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer cx_not-a-real-key")
    response = client.get("/api/v1/teams/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "Invalid or revoked API key.",
    }


def test_a_revoked_key_stops_working_at_once(org):
    key, raw = services.api_key_create(org=org, name="helpdesk")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me/").status_code == 200
    services.api_key_revoke(key=key, actor=services.SYSTEM)
    assert client.get("/api/v1/me/").status_code == 401


def test_the_key_is_stored_only_as_a_hash_and_its_use_is_recorded(org):
    key, raw = services.api_key_create(org=org, name="helpdesk")
    assert raw.startswith("cx_")
    assert len(raw) > 40
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw not in {stored.hashed_key, stored.prefix}
    assert stored.hashed_key == ApiKey.hash(raw)
    assert stored.last_used_at is None

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.get("/api/v1/me/")
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    assert (timezone.now() - stored.last_used_at).total_seconds() < 5


def test_me_names_the_keys_organization_and_role(org, api):
    body = api.get("/api/v1/me/").json()
    assert body["organization"] == {
        "id": org.pk,
        "name": "Acme",
        "slug": "acme",
        "time_zone": "UTC",
    }
    assert body["role"] == "manager"
    assert body["user"] is None


def test_a_staff_session_also_authenticates_the_api(org, manager_user):
    client = APIClient()
    client.force_login(manager_user)
    body = client.get("/api/v1/me/").json()
    assert body["organization"]["slug"] == "acme"
    assert body["user"] == manager_user.username


def test_a_member_of_no_organization_gets_403(django_user_model):
    user = django_user_model.objects.create_user("lonely@example.com", password="x")
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 403


def test_teams_can_be_created_listed_updated_and_deleted_with_an_admin_key(org, api_client_for):
    api = api_client_for(org, Role.ADMIN)
    created = api.post("/api/v1/teams/", {"name": "Care", "description": "Support"})
    assert created.status_code == 201, created.json()
    team_id = created.json()["id"]
    assert [t["name"] for t in api.get("/api/v1/teams/").json()["results"]] == ["Care"]

    patched = api.patch(f"/api/v1/teams/{team_id}/", {"name": "Customer Care"})
    assert patched.json()["name"] == "Customer Care"
    assert AuditEvent.objects.filter(action="team.updated", object_id=str(team_id)).exists()

    assert api.delete(f"/api/v1/teams/{team_id}/").status_code == 204
    assert not Team.objects.filter(pk=team_id).exists()


def test_invalid_input_gets_400_with_the_errors_of_each_field(org, api_client_for):
    api = api_client_for(org, Role.ADMIN)
    TeamFactory(organization=org, name="Care")
    response = api.post("/api/v1/teams/", {"name": "care"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Some fields are invalid.",
        "fields": {"name": ["A team with this name already exists."]},
    }
    assert api.post("/api/v1/teams/", {}).json()["fields"] == {"name": ["This field is required."]}


def test_a_read_only_key_can_read_but_not_write(org, api_client_for):
    TeamFactory(organization=org, name="Care")
    api = api_client_for(org, Role.VIEWER)
    assert api.get("/api/v1/teams/").status_code == 200
    response = api.post("/api/v1/teams/", {"name": "New"})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_another_organizations_team_is_not_found(org, other_org, outsider_api):
    team = TeamFactory(organization=org)
    response = outsider_api.get(f"/api/v1/teams/{team.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_lists_are_paginated_and_filterable(org, api):
    for n in range(7):
        TeamFactory(organization=org, name=f"Team {n:02d}")
    TeamFactory(organization=org, name="Logistics")
    page = api.get("/api/v1/teams/?page_size=3").json()
    assert page["count"] == 8
    assert len(page["results"]) == 3
    assert page["next"]
    found = api.get("/api/v1/teams/?name__icontains=logis").json()["results"]
    assert [t["name"] for t in found] == ["Logistics"]
    assert api.get("/api/v1/teams/?search=Team 03").json()["count"] == 1


def test_the_schema_documents_the_endpoints_and_their_errors(api):
    response = api.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/teams/{id}/" in schema["paths"]
    patch = schema["paths"]["/api/v1/teams/{id}/"]["patch"]
    assert {"400", "401", "403", "404"} <= set(patch["responses"])
    assert "Error" in schema["components"]["schemas"]


def test_a_page_past_the_last_and_a_bad_filter_are_documented_errors(api):
    """Found by schemathesis: lists answered 404 and 400 that the schema did not list."""
    paths = api.get("/api/v1/schema/?format=json").json()["paths"]

    page = api.get("/api/v1/teams/?page=99")
    bad_filter = api.get("/api/v1/stages/?phase=nowhere")

    assert page.status_code == 404
    assert page.json()["code"] == "not_found"
    assert "404" in paths["/api/v1/teams/"]["get"]["responses"]
    assert bad_filter.status_code == 400
    assert list(bad_filter.json()["fields"]) == ["phase"]
    assert "400" in paths["/api/v1/stages/"]["get"]["responses"]
    # Neither can happen on a list without filters or pagination.
    assert set(paths["/api/v1/me/"]["get"]["responses"]) == {"200", "401", "403"}
    assert "400" not in paths["/api/v1/segments/"]["get"]["responses"]


def test_the_schema_admits_the_errors_of_nested_fields(api):
    """Found by schemathesis (response_schema_conformance): a question's error is an
    object by position, where the schema promised a list of messages."""
    error = api.get("/api/v1/schema/?format=json").json()["components"]["schemas"]["Error"]

    response = api.post(
        "/api/v1/surveys/",
        {"name": "Onboarding", "kind": "custom", "questions": [{"text": "Anything else?"}]},
        format="json",
    )

    assert response.status_code == 400
    nested = response.json()["fields"]["questions"]
    assert nested == {"0": {"type": ["This field is required."]}}
    admitted = error["properties"]["fields"]["additionalProperties"]["anyOf"]
    assert {"type": "object"} in admitted


@pytest.mark.parametrize("collection", ["stages", "campaigns", "segments"])
def test_a_delete_that_can_be_refused_documents_its_400(api, collection):
    operation = api.get("/api/v1/schema/?format=json").json()["paths"][
        f"/api/v1/{collection}/{{id}}/"
    ]["delete"]

    assert {"204", "400", "404"} <= set(operation["responses"])
    error = operation["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}


def test_the_docs_page_works_without_the_internet(admin):
    html = admin.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html
    assert "unpkg" not in html
    assert "jsdelivr" not in html


def test_every_script_of_the_docs_page_is_allowed_by_its_content_security_policy(client):
    import re

    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"script-src [^;]*'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert len(scripts) == 3  # Swagger UI, its preset, and the inline start-up script
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag, tag
        src = re.search(r'src="([^"]+)"', tag)
        assert src is None or src.group(1).startswith("/static/"), "no CDN"


def test_an_unknown_api_path_is_a_json_404_in_the_error_shape(api):
    for path in ["/api/v1/nope/", "/api/v1/teams/1/nope/", "/api/v2/teams/", "/api/"]:
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        body = response.json()
        assert body["code"] == "not_found"
        assert path in body["detail"]


def test_a_post_to_an_unknown_api_path_is_a_json_404_too(api):
    response = api.post("/api/v1/nope/", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_api_path_without_its_final_slash_says_so(api, org):
    assert api.get("/api/v1/teams")["Location"] == "/api/v1/teams/"
    response = api.post("/api/v1/teams", {"name": "Care"}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"].endswith("API paths end with a slash: /api/v1/teams/")
    assert not Team.objects.exists()


def test_the_organization_settings_are_read_and_changed_by_an_admin_key(org, api_client_for):
    admin = api_client_for(org, Role.ADMIN)
    body = admin.get("/api/v1/organization/").json()
    assert (body["slug"], body["time_zone"], body["default_locale"]) == ("acme", "UTC", "en")
    response = admin.patch(
        "/api/v1/organization/", {"time_zone": "Europe/Berlin", "default_locale": "de"}
    )
    assert response.status_code == 200, response.json()
    org.refresh_from_db()
    assert (org.time_zone, org.default_locale) == ("Europe/Berlin", "de")
    assert AuditEvent.objects.filter(organization=org, action="organization.updated").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", "../../etc/passwd"),
        ("time_zone", ""),
        ("default_locale", "xx"),
        ("default_locale", "de-XX"),
    ],
)
def test_a_bogus_time_zone_or_language_is_a_400_on_that_field(org, api_client_for, field, value):
    response = api_client_for(org, Role.ADMIN).patch("/api/v1/organization/", {field: value})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    org.refresh_from_db()
    assert (org.time_zone, org.default_locale) == ("UTC", "en")


def test_only_admin_keys_change_the_organization(org, api):
    assert api.get("/api/v1/organization/").status_code == 200
    assert api.patch("/api/v1/organization/", {"name": "Hacked"}).status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme"


def _their_row(kind: str, org):
    from tests.feedback.factories import SurveyFactory
    from tests.journeys.factories import JourneyFactory, StageFactory

    return {
        "survey": lambda: SurveyFactory(organization=org),
        "journey": lambda: JourneyFactory(organization=org),
        "stage": lambda: StageFactory(organization=org),
    }[kind]()


@pytest.mark.parametrize(
    ("path", "field", "kind", "body"),
    [
        ("/api/v1/campaigns/", "survey", "survey", {"name": "Spring"}),
        ("/api/v1/invitations/", "survey", "survey", {"contact_email": "ann@example.com"}),
        ("/api/v1/responses/", "survey", "survey", {"score": 9}),
        ("/api/v1/stages/", "journey", "journey", {"name": "Visit", "phase": "entry"}),
        ("/api/v1/touchpoints/", "stage", "stage", {"name": "Desk"}),
    ],
)
def test_another_organizations_id_gets_the_answer_of_an_id_that_does_not_exist(
    org, other_org, api, path, field, kind, body
):
    """One organization-scoped id field: the same message everywhere, which never tells
    another organization's row from a missing one."""
    theirs = _their_row(kind, other_org).pk
    answers = [
        api.post(path, {**body, field: pk}, format="json").json()["fields"][field]
        for pk in (theirs, 10**6, 2**70)
    ]
    assert answers[0] == [f"No {kind} with id {theirs} in your organization."]
    assert answers[1] == [f"No {kind} with id {10**6} in your organization."]
    assert answers[2] == [f"No {kind} with id {2**70} in your organization."]
    wrong = api.post(path, {**body, field: "first"}, format="json").json()["fields"][field]
    assert wrong == ["Expected an id (a number), got str."]


def test_a_key_is_found_through_the_directory_then_read_within_its_organization(
    org, other_org, django_assert_num_queries
):
    """The request brings a key and no organization: the directory names it (one global
    lookup), and the key is then read in that organization alone."""
    from cxplatform.models import ApiKeyDirectory

    key, raw = services.api_key_create(org=org, name="helpdesk")
    entry = ApiKeyDirectory.objects.get(hashed_key=ApiKey.hash(raw))
    assert entry.organization == org
    with django_assert_num_queries(3) as queries:  # directory, key, last-used time
        assert services.api_key_authenticate(raw) == key
    assert re.search(rf'organization_id" = {org.pk}\b', queries.captured_queries[1]["sql"])
    # A directory that names another organization finds nothing there: no key.
    ApiKeyDirectory.objects.filter(pk=entry.pk).update(organization=other_org)
    assert services.api_key_authenticate(raw) is None
    ApiKeyDirectory.objects.filter(pk=entry.pk).delete()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me/").status_code == 401
