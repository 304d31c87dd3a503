"""The journeys staff URLs with a row in them, for the tenant-isolation walk."""

from __future__ import annotations

from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory
from tests.test_tenant_isolation import register_staff_rows


def _journey(org):
    return {"pk": JourneyFactory(organization=org).pk}


def _stage(org):
    return {"pk": StageFactory(organization=org).pk}


def _touchpoint(org):
    return {"pk": TouchpointFactory(organization=org).pk}


register_staff_rows(
    {
        "journeys:journey_map": _journey,
        "journeys:journey_edit": _journey,
        "journeys:journey_archive": _journey,
        "journeys:journey_restore": _journey,
        "journeys:journey_delete": _journey,
        "journeys:stage_create": _journey,
        "journeys:stage_edit": _stage,
        "journeys:stage_move": _stage,
        "journeys:stage_delete": _stage,
        "journeys:touchpoint_create": _stage,
        "journeys:touchpoint_detail": _touchpoint,
        "journeys:touchpoint_edit": _touchpoint,
        "journeys:touchpoint_move": _touchpoint,
        "journeys:touchpoint_delete": _touchpoint,
        "journeys:touchpoint_restore": _touchpoint,
    }
)
