"""The demo data of contacts and responses: realistic, fast and safe to run twice."""

from __future__ import annotations

import io
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count

from cxplatform.models import Employee
from cxplatform.services import SYSTEM
from feedback.demo import contacts as demo_contacts
from feedback.demo import responses as demo_responses
from feedback.models import Answer, Contact, Invitation, Response
from feedback.services import surveys
from tests.factories import OrganizationFactory, TeamFactory
from tests.journeys.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_surveys(org):
    team = TeamFactory(organization=org, name="Customer Care")
    TouchpointFactory(organization=org, name="Hotline", component="service", owner_team=team)
    TouchpointFactory(organization=org, name="Checkout", component="technology")
    TouchpointFactory(organization=org, name="Home delivery", moment_of_truth=True)
    return [
        surveys.survey_create_from_template(org=org, actor=SYSTEM, kind=kind, status="active")
        for kind in ("nps", "csat", "ces")
    ]


def test_demo_contacts_are_varied_and_seeded_once(org):
    out = io.StringIO()

    demo_contacts.seed(org=org, stdout=out, quick=True)
    demo_contacts.seed(org=org, stdout=out, quick=True)

    contacts = Contact.objects.for_org(org)
    assert contacts.count() == demo_contacts.QUICK_COUNT
    locales = dict(contacts.values_list("locale").annotate(n=Count("id")))
    assert set(locales) == {"en", "de", "fr"}
    assert all(c.email == c.email.lower() for c in contacts)
    sample = contacts.first()
    assert {"plan", "region", "customer_since", "loyalty_tier"} <= set(sample.attributes)
    assert contacts.filter(unsubscribed_at__isnull=False).exists()
    assert "already there" in out.getvalue()


def test_every_demo_address_is_a_valid_one():
    """Found by schemathesis against the demo: "françois" kept its ç, an address the API
    refuses, campaigns suppress as invalid, and the schema's email format rejects."""
    built = demo_contacts.build(OrganizationFactory.build(), count=2000)

    invalid = []
    for contact in built:
        try:
            validate_email(contact.email)
        except ValidationError:
            invalid.append(contact.email)

    assert invalid == []
    assert any(".francois" in contact.email for contact in built)


def test_demo_responses_have_realistic_shapes_and_are_seeded_once(
    org, demo_surveys, mailoutbox, django_capture_on_commit_callbacks
):
    demo_contacts.seed(org=org, quick=True)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        demo_responses.seed(org=org, stdout=io.StringIO(), quick=True)
    elapsed = time.monotonic() - started

    responses = Response.objects.for_org(org)
    assert responses.count() > 100
    assert responses.filter(completed=True, invitation__isnull=False).count() == responses.count()
    assert not Invitation.objects.filter(status="responded", response__isnull=True).exists()
    nps = responses.filter(primary_type="nps")
    share = {c: nps.filter(category=c).count() / nps.count() for c in ("promoter", "detractor")}
    assert 0.3 < share["promoter"] < 0.6
    assert 0.12 < share["detractor"] < 0.4
    assert responses.exclude(comment="").count() > responses.count() * 0.3
    assert responses.filter(sentiment__isnull=False).exists()
    assert responses.filter(employee__isnull=False).exists()
    assert Employee.objects.for_org(org).exists()
    assert Answer.objects.filter(response__organization=org).count() >= responses.count()
    statuses = set(Invitation.objects.for_org(org).values_list("status", flat=True))
    assert {"responded", "expired", "sent"} <= statuses
    assert len(mailoutbox) == 3, "fresh invitations for the demo mailbox"
    assert elapsed < 20

    with django_capture_on_commit_callbacks(execute=True):
        demo_responses.seed(org=org, stdout=io.StringIO(), quick=True)
    assert Response.objects.for_org(org).count() == responses.count()
    assert len(mailoutbox) == 3


def test_demo_responses_are_skipped_without_surveys(org):
    demo_contacts.seed(org=org, quick=True)
    out = io.StringIO()

    demo_responses.seed(org=org, stdout=out, quick=True)

    assert "skipped" in out.getvalue()
    assert not Response.objects.exists()
