"""Reads of journeys used by other apps: the touchpoints offered in pickers."""

from __future__ import annotations

import pytest

from cxplatform.services import SYSTEM
from journeys import selectors, services
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def test_pickers_offer_only_active_touchpoints_of_active_journeys_in_map_order(org, other_org):
    journey = JourneyFactory(organization=org, name="Purchase")
    first = StageFactory(organization=org, journey=journey, position=0)
    later = StageFactory(organization=org, journey=journey, position=1)
    pay = TouchpointFactory(organization=org, stage=later, name="Pay", position=0)
    browse = TouchpointFactory(organization=org, stage=first, name="Browse", position=0)
    gone = TouchpointFactory(organization=org, stage=first, name="Fax", position=1)
    services.touchpoint_archive(touchpoint=gone, actor=SYSTEM)
    old = TouchpointFactory(organization=org, name="Catalogue")
    services.journey_archive(journey=old.stage.journey, actor=SYSTEM)
    TouchpointFactory(organization=other_org, name="Theirs")

    assert list(selectors.touchpoint_choices(org=org)) == [browse, pay]


def test_a_touchpoint_already_chosen_stays_offered_after_its_journey_is_archived(org):
    live = TouchpointFactory(organization=org)
    old = TouchpointFactory(organization=org)
    services.journey_archive(journey=old.stage.journey, actor=SYSTEM)

    assert set(selectors.touchpoint_choices(org=org, keep=old.pk)) == {live, old}
