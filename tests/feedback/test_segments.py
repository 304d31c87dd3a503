"""Segment names: unique per organization (in any case) by a database constraint, and
the same clear error from the service, the API and the form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from cxplatform.services import SYSTEM
from feedback.models import Segment
from feedback.services import campaigns as services
from tests.feedback.factories import SegmentFactory

TAKEN = "A segment with this name already exists."


def test_the_database_refuses_a_second_segment_of_the_same_name_in_any_case(org):
    Segment.objects.create(organization=org, name="Germany")
    with pytest.raises(IntegrityError), transaction.atomic():
        Segment.objects.create(organization=org, name="GERMANY")


def test_another_organization_may_use_the_same_name(org, other_org):
    SegmentFactory(organization=other_org, name="Germany")
    segment = services.segment_create(org=org, name="Germany", filter={}, actor=SYSTEM)
    assert segment.organization == org


def test_the_service_turns_the_constraint_into_an_error_on_the_name(org):
    services.segment_create(org=org, name="Germany", filter={}, actor=SYSTEM)
    with pytest.raises(ValidationError) as caught:
        services.segment_create(org=org, name=" germany ", filter={}, actor=SYSTEM)
    assert caught.value.message_dict == {"name": [TAKEN]}
    other = services.segment_create(org=org, name="France", filter={}, actor=SYSTEM)
    with pytest.raises(ValidationError) as caught:
        services.segment_update(segment=other, data={"name": "GERMANY"}, actor=SYSTEM)
    assert caught.value.message_dict == {"name": [TAKEN]}
    assert sorted(Segment.objects.values_list("name", flat=True)) == ["France", "Germany"]


def test_the_api_answers_a_taken_name_with_a_400_on_the_field(api, org):
    SegmentFactory(organization=org, name="Germany")
    france = SegmentFactory(organization=org, name="France")
    created = api.post("/api/v1/segments/", {"name": "germany"}, format="json")
    assert created.status_code == 400
    assert created.json()["fields"] == {"name": [TAKEN]}
    renamed = api.patch(f"/api/v1/segments/{france.pk}/", {"name": "Germany"}, format="json")
    assert renamed.status_code == 400
    assert renamed.json()["fields"] == {"name": [TAKEN]}


def test_the_form_shows_a_taken_name_under_the_field(manager, org):
    SegmentFactory(organization=org, name="Germany")
    france = SegmentFactory(organization=org, name="France")
    response = manager.post(reverse("feedback:segment_list"), {"name": "GERMANY"})
    assert response.status_code == 422
    assert response.context["form"].errors == {"name": [TAKEN]}
    response = manager.post(reverse("feedback:segment_edit", args=[france.pk]), {"name": "germany"})
    assert response.status_code == 422
    assert response.context["form"].errors == {"name": [TAKEN]}
    assert TAKEN in response.content.decode()
    assert Segment.objects.filter(organization=org).count() == 2
