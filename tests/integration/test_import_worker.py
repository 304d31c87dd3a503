"""Contacts through a real Celery worker (Redis broker, PostgreSQL): a large CSV import
whose progress is visible while it runs, and an invitation triggered through the API whose
email the sending engine delivers to a real SMTP server."""

from __future__ import annotations

import csv
import io
import time

import pytest
from rest_framework.test import APIClient

from cxplatform.services import SYSTEM
from feedback.models import Contact, ContactImport, ImportStatus, Invitation
from feedback.services import imports
from tests.factories import OrganizationFactory, api_key_for
from tests.feedback.factories import SurveyFactory
from tests.integration.conftest import wait_for
from tests.integration.delivery_support import SmtpSink, worker_env

pytestmark = pytest.mark.integration


def test_a_worker_imports_a_large_file_and_the_progress_shows_as_it_goes(start_worker):
    org = OrganizationFactory(name="Acme", slug="acme")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["email", "name", "plan"])
    for i in range(30_000):
        writer.writerow([f"p{i}@example.com" if i % 5000 else "broken", f"Person {i}", "pro"])
    worker = start_worker()

    contact_import = imports.import_create(
        org=org, actor=SYSTEM, filename="big.csv", content=out.getvalue().encode("utf-8-sig")
    )

    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        row = ContactImport.objects.get(pk=contact_import.pk)
        seen.add(row.processed_rows)
        if row.status in {ImportStatus.DONE, ImportStatus.FAILED}:
            break
        time.sleep(0.02)
    row = ContactImport.objects.get(pk=contact_import.pk)
    assert row.status == ImportStatus.DONE, f"{row.failure}\nworker log:\n{worker.output()}"
    assert (row.total_rows, row.processed_rows) == (30_000, 30_000)
    assert (row.created_count, row.error_count) == (30_000 - 6, 6)
    assert [e["row"] for e in row.errors] == [2, 5002, 10002, 15002, 20002, 25002]
    assert Contact.objects.filter(organization=org).count() == 30_000 - 6
    partial = {n for n in seen if 0 < n < 30_000}
    assert partial, "the progress advanced batch by batch, visibly"
    assert all(n % imports.BATCH_SIZE == 0 for n in partial), "only whole batches are committed"


@pytest.fixture
def sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def test_an_invitation_triggered_through_the_api_is_emailed_by_the_worker(start_worker, sink):
    org = OrganizationFactory(name="Acme", slug="acme")
    survey = SurveyFactory(organization=org, status="active")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(org)}")
    worker = start_worker(**worker_env(sink.url))

    first = api.post(
        "/api/v1/invitations/",
        {"survey": survey.pk, "contact_email": "ann@example.com", "external_ref": "ticket-9"},
    )
    again = api.post(
        "/api/v1/invitations/",
        {"survey": survey.pk, "contact_email": "ann@example.com", "external_ref": "ticket-9"},
    )

    assert (first.status_code, again.status_code) == (201, 200)
    invitation_id = first.json()["id"]
    wait_for(
        lambda: Invitation.objects.get(pk=invitation_id).status == "sent",
        timeout=60,
        what=f"the invitation to be sent; worker log:\n{worker.output()}",
    )
    received = sink.messages()
    assert [m.to for m in received] == ["ann@example.com"]
    assert first.json()["survey_url"] in received[0].part("plain")
