"""The contacts API: list with filters, create/update with field errors, delete, the CSV
upload at /api/v1/contacts/import/ and the import status at /api/v1/contacts/imports/<id>/."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cxplatform.models import Role
from feedback.models import Contact, ContactImport, Invitation, Response
from tests.feedback.factories import (
    ContactFactory,
    ContactImportFactory,
    InvitationFactory,
    ResponseFactory,
)

pytestmark = pytest.mark.django_db


def test_listing_contacts_with_search_and_filters(api, org, other_org):
    ContactFactory(organization=org, email="ann@example.com", locale="de", attributes={"a": "1"})
    ContactFactory(organization=org, email="bob@example.com", external_id="CRM-2")
    ContactFactory(organization=other_org, email="ann@example.com")

    everyone = api.get("/api/v1/contacts/")
    assert everyone.status_code == 200
    assert [c["email"] for c in everyone.json()["results"]] == [
        "ann@example.com",
        "bob@example.com",
    ]
    first = everyone.json()["results"][0]
    assert first["subscribed"] is True
    assert first["attributes"] == {"a": "1"}

    def found(**params: str) -> list[str]:
        return [c["email"] for c in api.get("/api/v1/contacts/", params).json()["results"]]

    assert found(q="bob") == ["bob@example.com"]
    assert found(email="ANN@example.com") == ["ann@example.com"]
    assert found(external_id="CRM-2") == ["bob@example.com"]
    assert found(locale="de") == ["ann@example.com"]
    assert found(attribute="a=1") == ["ann@example.com"]
    assert found(ordering="-email") == ["bob@example.com", "ann@example.com"]


def test_an_unknown_status_filter_is_a_400_with_the_field(api):
    response = api.get("/api/v1/contacts/", {"status": "asleep"})

    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_creating_a_contact_normalises_it(api, org):
    response = api.post(
        "/api/v1/contacts/",
        {
            "email": "New@Example.COM",
            "name": "New",
            "locale": "pt_br",
            "time_zone": "america/sao_paulo",
            "attributes": {"Plan": "pro", "seats": 3, "vip": True},
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "new@example.com"
    assert (body["locale"], body["time_zone"]) == ("pt-BR", "America/Sao_Paulo")
    assert body["attributes"] == {"plan": "pro", "seats": 3, "vip": True}
    assert Contact.objects.get(organization=org).pk == body["id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@example.com", "locale": "english"}, "locale"),
        ({"email": "a@example.com", "time_zone": "Mars/Base"}, "time_zone"),
        ({"email": "a@example.com", "attributes": {"nested": {"no": 1}}}, "attributes"),
        ({"email": "a@example.com", "attributes": {"email": "x"}}, "attributes"),
        ({"email": "a@example.com", "attributes": ["not", "an", "object"]}, "attributes"),
        ({"email": "a@example.com", "attributes": {"x": "nul\x00byte"}}, "attributes"),
    ],
)
def test_invalid_contact_fields_are_400_by_field(api, payload, field):
    response = api.post("/api/v1/contacts/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_a_number_json_cannot_store_is_a_400_not_an_error(api, number):
    body = '{"email": "a@example.com", "attributes": {"x": NUMBER}}'.replace("NUMBER", number)

    response = api.post("/api/v1/contacts/", body, content_type="application/json")

    assert response.status_code == 400
    assert "attributes" in response.json()["fields"]


def test_a_second_contact_with_the_same_address_is_refused(api, org):
    ContactFactory(organization=org, email="ann@example.com")

    response = api.post("/api/v1/contacts/", {"email": "ANN@example.com"})

    assert response.status_code == 400
    assert response.json()["fields"]["email"] == [
        "A contact with this email address already exists."
    ]


def test_updating_and_deleting_a_contact(api, org):
    contact = ContactFactory(organization=org, email="ann@example.com", attributes={"a": "1"})
    invitation = InvitationFactory(organization=org, contact=contact)
    response_row = ResponseFactory(organization=org, contact=contact, invitation=invitation)

    patched = api.patch(
        f"/api/v1/contacts/{contact.pk}/", {"name": "Ann", "attributes": {"b": "2"}}
    )
    assert patched.status_code == 200
    assert patched.json()["attributes"] == {"b": "2"}

    assert api.delete(f"/api/v1/contacts/{contact.pk}/").status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Invitation.objects.filter(pk=invitation.pk).exists()
    kept = Response.objects.get(pk=response_row.pk)
    assert kept.contact is None, "the answer stays, without the person"


def test_a_read_only_key_may_read_but_not_write(api_client_for, org):
    viewer_api = api_client_for(org, Role.VIEWER)
    contact = ContactFactory(organization=org)

    assert viewer_api.get("/api/v1/contacts/").status_code == 200
    assert viewer_api.post("/api/v1/contacts/", {"email": "x@example.com"}).status_code == 403
    assert viewer_api.patch(f"/api/v1/contacts/{contact.pk}/", {"name": "X"}).status_code == 403
    upload = SimpleUploadedFile("c.csv", b"email\na@example.com\n")
    assert (
        viewer_api.post("/api/v1/contacts/import/", {"file": upload}, format="multipart")
    ).status_code == 403


def test_uploading_a_csv_through_the_api_and_following_its_progress(
    api, org, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile(
        "people.csv", "email;name\nann@example.com;Ann\nbad;Bob\n".encode("utf-16")
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/contacts/import/", {"file": upload}, format="multipart")

    assert response.status_code == 202, response.json()
    body = response.json()
    assert response["Location"] == f"/api/v1/contacts/imports/{body['id']}/"
    assert body["filename"] == "people.csv"
    status = api.get(f"/api/v1/contacts/imports/{body['id']}/").json()
    assert status["status"] == "done"
    assert (status["total_rows"], status["processed_rows"], status["percent"]) == (2, 2, 100)
    assert (status["created_count"], status["error_count"]) == (1, 1)
    assert status["errors"] == [
        {"row": 3, "email": "bad", "reason": "Invalid email address “bad”."}
    ]


def test_an_upload_without_a_file_is_a_400(api):
    response = api.post("/api/v1/contacts/import/", {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["fields"]
    assert not ContactImport.objects.exists()


def test_the_imports_of_another_organization_are_not_found(outsider_api, org):
    contact_import = ContactImportFactory(organization=org)

    assert outsider_api.get(f"/api/v1/contacts/imports/{contact_import.pk}/").status_code == 404
    assert outsider_api.get("/api/v1/contacts/imports/").json()["results"] == []


def test_the_schema_documents_the_upload_and_the_import_status(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()

    upload = schema["paths"]["/api/v1/contacts/import/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "202" in upload["responses"]
    assert "/api/v1/contacts/imports/{id}/" in schema["paths"]
