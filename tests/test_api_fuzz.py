"""Schemathesis over the whole REST API: nothing an API client sends causes a 500.

The schema is the app's own (``/api/v1/schema/``, loaded through WSGI), so a new endpoint
is fuzzed the day it is added. Each operation gets a fixed number of generated requests
(valid and invalid ones), derandomized so a run is reproducible, sent with an admin key
of an organization that has a little of everything: a journey with stages and
touchpoints, surveys with questions, contacts, a segment, campaigns with invitations,
responses and an import. Most generated ``{id}``s and row references (``survey``,
``touchpoint``…) are swapped for ids of those rows, so the fuzzing reaches the code
behind the lookups; the rest stay random and exercise the 404s and 400s.

Checks: no 5xx; every status code is one the schema documents; the content type and the
body are the documented ones. Deselect with ``-m "not fuzz"``. For a longer run against a
live server, see the schemathesis CLI (``schemathesis run <schema-url> --url <base>``).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from cxplatform.models import Role
from cxplatform.wsgi import application
from feedback.models import InvitationStatus
from feedback.scoring import QuestionType
from tests.factories import EmployeeFactory, TeamFactory, api_key_for
from tests.feedback.factories import (
    CampaignFactory,
    ContactFactory,
    ContactImportFactory,
    InvitationFactory,
    QuestionFactory,
    ResponseFactory,
    SegmentFactory,
    SurveyFactory,
)
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory

pytestmark = pytest.mark.fuzz

EXAMPLES_PER_OPERATION = 20

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
schema.config.generation.update(
    max_examples=EXAMPLES_PER_OPERATION, deterministic=True, database="none"
)
schema.config.seed = 20261123

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# The kinds of row a path's ``{id}`` or a body / query field (``survey``, ``touchpoint``…)
# may name, as keys of ``seed_organization``'s ids.
KINDS = frozenset(
    {
        "campaign",
        "contact",
        "employee",
        "invitation",
        "journey",
        "question",
        "response",
        "segment",
        "stage",
        "survey",
        "team",
        "touchpoint",
    }
)


def _kind(name: str) -> str | None:
    """``touchpoints`` or ``touchpoint`` → ``touchpoint``; ``imports`` → ``contact_import``."""
    if name == "imports":
        return "contact_import"
    singular = name.removesuffix("s")
    return singular if singular in KINDS else None


def seed_organization(org: Any) -> dict[str, int]:
    """A small but realistic organization; returns the id of one row of each kind."""
    team = TeamFactory(organization=org, name="Support")
    journey = JourneyFactory(organization=org, name="Online order")
    stage = StageFactory(organization=org, journey=journey, name="Checkout")
    touchpoint = TouchpointFactory(
        organization=org, stage=stage, name="Payment page", owner_team=team
    )
    TouchpointFactory(organization=org, stage=StageFactory(organization=org, journey=journey))
    survey = SurveyFactory(organization=org, name="Checkout NPS")
    csat = SurveyFactory(organization=org, name="Delivery CSAT", kind="csat", questions=False)
    question = QuestionFactory(
        organization=org, survey=csat, type=QuestionType.CSAT, is_primary=True, required=True
    )
    QuestionFactory(
        organization=org,
        survey=csat,
        type=QuestionType.SINGLE_CHOICE,
        choices=["Speed", "Price", "Staff"],
    )
    contacts = [
        ContactFactory(organization=org, attributes={"plan": plan}) for plan in ("pro", "free")
    ]
    segment = SegmentFactory(organization=org)
    employee = EmployeeFactory(organization=org, name="Eve", team=team)
    draft = CampaignFactory(organization=org, survey=survey, touchpoint=touchpoint)
    sent = CampaignFactory(organization=org, survey=survey, status="sent")
    invitations = [
        InvitationFactory(
            organization=org, campaign=sent, survey=survey, contact=contact, status=status
        )
        for contact, status in zip(
            contacts, [InvitationStatus.RESPONDED, InvitationStatus.SENT], strict=True
        )
    ]
    response = ResponseFactory(
        organization=org,
        survey=survey,
        contact=contacts[0],
        invitation=invitations[0],
        touchpoint=touchpoint,
        comment="Quick and easy.",
    )
    ResponseFactory(
        organization=org, survey=csat, contact=contacts[1], primary_type="csat", primary_score=4
    )
    ResponseFactory(  # started, not finished: no score, no category
        organization=org, survey=survey, primary_type="", primary_score=None, completed=False
    )
    contact_import = ContactImportFactory(organization=org)
    return {
        "team": team.pk,
        "journey": journey.pk,
        "stage": stage.pk,
        "touchpoint": touchpoint.pk,
        "survey": survey.pk,
        "question": question.pk,
        "contact": contacts[0].pk,
        "segment": segment.pk,
        "employee": employee.pk,
        "campaign": draft.pk,
        "invitation": invitations[1].pk,
        "response": response.pk,
        "contact_import": contact_import.pk,
    }


@pytest.fixture
def fuzz_org(org: Any) -> tuple[str, dict[str, int]]:
    ids = seed_organization(org)
    return api_key_for(org, Role.ADMIN), ids


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """The WSGI app sends request_started / request_finished, whose
    ``close_old_connections`` would close the test's transaction on PostgreSQL."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _collection(path: str) -> str | None:
    """``/api/v1/contacts/imports/{id}/`` → ``imports``."""
    parts = [part for part in path.split("/") if part]
    if "{id}" not in parts:
        return None
    return parts[parts.index("{id}") - 1]


def point_at_real_rows(case: Any, ids: dict[str, int]) -> None:
    """Swap three in four generated ids for ids of the seeded rows (which one is decided by
    the generated value, so a failing example replays the same way)."""

    def real(kind: str | None, value: Any) -> Any:
        if kind is None or not isinstance(value, int) or isinstance(value, bool):
            return value
        return value if value % 4 == 3 else ids[kind]

    collection = _collection(case.operation.path)
    if collection and case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = real(_kind(collection), case.path_parameters["id"])
    for fields in (case.body, case.query):
        if isinstance(fields, dict):
            for name, value in list(fields.items()):
                fields[name] = real(_kind(name), value)


@pytest.mark.django_db
@schema.parametrize()
# The seeded organization is shared by an operation's examples on purpose: what one
# request created or deleted is the next one's starting point, as for a real client.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_request_causes_a_server_error(case, fuzz_org, wsgi_keeps_the_test_connection):
    key, ids = fuzz_org
    point_at_real_rows(case, ids)
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
