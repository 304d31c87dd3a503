"""Employees live in the core: the API (employees/), the settings page, the rules."""

from __future__ import annotations

import pytest

from cxplatform.models import AuditEvent, Employee, Role
from tests.factories import EmployeeFactory, TeamFactory

pytestmark = pytest.mark.django_db


def test_an_integration_adds_an_employee_with_team_and_manager(org, api):
    team = TeamFactory(organization=org, name="Support")
    boss = EmployeeFactory(organization=org, name="Bea Boss")
    response = api.post(
        "/api/v1/employees/",
        {
            "name": "Eve Agent",
            "email": "eve@shop.example",
            "external_id": "HR-7",
            "team": team.pk,
            "manager": boss.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["team"], body["manager"], body["active"]) == (
        "Eve Agent",
        team.pk,
        boss.pk,
        True,
    )
    assert AuditEvent.objects.filter(organization=org, action="employee.created").exists()
    listed = api.get("/api/v1/employees/?external_id=HR-7").json()["results"]
    assert [e["name"] for e in listed] == ["Eve Agent"]


def test_an_external_id_is_unique_per_organization_with_a_field_error(org, other_org, api):
    EmployeeFactory(organization=org, external_id="HR-7")
    EmployeeFactory(organization=other_org, external_id="HR-8")
    clash = api.post("/api/v1/employees/", {"name": "Twin", "external_id": "HR-7"}, format="json")
    assert clash.status_code == 400
    assert "HR-7" in clash.json()["fields"]["external_id"][0]
    # Another organization's ids are theirs: the same id is free here.
    fine = api.post("/api/v1/employees/", {"name": "Other", "external_id": "HR-8"}, format="json")
    assert fine.status_code == 201
    # Several employees without an external id are fine.
    for name in ("A", "B"):
        assert api.post("/api/v1/employees/", {"name": name}, format="json").status_code == 201


def test_another_organizations_team_manager_or_employee_is_not_found(org, other_org, api):
    their_team = TeamFactory(organization=other_org)
    their_employee = EmployeeFactory(organization=other_org)
    for field, value in (("team", their_team.pk), ("manager", their_employee.pk)):
        response = api.post("/api/v1/employees/", {"name": "X", field: value}, format="json")
        assert response.status_code == 400
        assert "in your organization" in response.json()["fields"][field][0]
    assert api.get(f"/api/v1/employees/{their_employee.pk}/").status_code == 404
    assert api.delete(f"/api/v1/employees/{their_employee.pk}/").status_code == 404
    assert Employee.objects.filter(pk=their_employee.pk).exists()


def test_an_employee_cannot_manage_themselves(org, api):
    eve = EmployeeFactory(organization=org)
    response = api.patch(f"/api/v1/employees/{eve.pk}/", {"manager": eve.pk}, format="json")
    assert response.status_code == 400
    assert "own manager" in response.json()["fields"]["manager"][0]


def test_a_viewer_key_reads_but_cannot_add(org, api_client_for):
    EmployeeFactory(organization=org, name="Eve")
    viewer = api_client_for(org, Role.VIEWER)
    assert [e["name"] for e in viewer.get("/api/v1/employees/").json()["results"]] == ["Eve"]
    assert viewer.post("/api/v1/employees/", {"name": "X"}, format="json").status_code == 403


def test_a_manager_adds_finds_and_deactivates_an_employee_on_the_settings_page(org, manager):
    TeamFactory(organization=org, name="Support")
    page = manager.get("/settings/employees/")
    assert b"No employees yet" in page.content
    team = org.teams.get()
    created = manager.post(
        "/settings/employees/",
        {"name": "Eve Agent", "external_id": "HR-7", "team": team.pk, "active": "on"},
    )
    assert created.status_code == 200
    assert b"Eve Agent added." in created.content
    eve = Employee.objects.get(organization=org)
    assert manager.get("/settings/employees/?q=HR-7").content.count(b"Eve Agent") >= 1
    assert b"No employee matches" in manager.get("/settings/employees/?q=nobody").content
    saved = manager.post(f"/settings/employees/{eve.pk}/", {"name": "Eve Agent", "team": team.pk})
    assert saved.status_code == 302
    eve.refresh_from_db()
    assert eve.active is False


def test_the_settings_form_shows_a_duplicate_external_id_and_keeps_the_input(org, manager):
    EmployeeFactory(organization=org, external_id="HR-7")
    response = manager.post("/settings/employees/", {"name": "Twin", "external_id": "HR-7"})
    assert response.status_code == 422
    assert b"is-invalid" in response.content
    assert b'value="Twin"' in response.content
    assert Employee.objects.filter(organization=org).count() == 1


def test_a_viewer_sees_employees_but_no_form(org, viewer):
    EmployeeFactory(organization=org, name="Eve")
    page = viewer.get("/settings/employees/")
    assert b"Eve" in page.content
    assert b"employee-form" not in page.content
    assert viewer.post("/settings/employees/", {"name": "X"}).status_code == 403


def test_another_organizations_employee_page_is_a_404(other_org, manager):
    theirs = EmployeeFactory(organization=other_org)
    assert manager.get(f"/settings/employees/{theirs.pk}/").status_code == 404
    assert manager.post(f"/settings/employees/{theirs.pk}/delete/").status_code == 404
