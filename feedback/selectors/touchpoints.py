"""Reads of the feedback attached to one touchpoint, for the journeys app's touchpoint page
(feedback's ``touchpoint.panels`` contribution: journeys never imports feedback). Every
function is scoped to ``org``."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from cxplatform.models import Organization
from feedback.models import Campaign, Response, Survey
from feedback.models.responses import counted_q, flagged_q


def surveys_for_touchpoint(*, org: Organization, touchpoint: Any) -> QuerySet[Survey]:
    """The surveys that ask about this touchpoint, with their counted responses and,
    apart, those flagged as automated."""
    return (
        Survey.objects.for_org(org)
        .filter(touchpoint=touchpoint)
        .annotate(
            response_count=Count("responses", filter=counted_q("responses__")),
            flagged_count=Count("responses", filter=flagged_q("responses__")),
        )
        .order_by("name", "id")
    )


def campaigns_for_touchpoint(*, org: Organization, touchpoint: Any) -> QuerySet[Campaign]:
    """The campaigns sent for this touchpoint, newest first, with their survey: those
    naming it, and those left at "the survey's touchpoint" whose survey asks about it
    (their invitations carry it, so their answers show here too)."""
    return (
        Campaign.objects.for_org(org)
        .filter(
            Q(touchpoint=touchpoint) | Q(touchpoint__isnull=True, survey__touchpoint=touchpoint)
        )
        .select_related("survey")
        .order_by("-created_at", "-id")
    )


def recent_responses_for_touchpoint(
    *, org: Organization, touchpoint: Any, limit: int = 10
) -> QuerySet[Response]:
    """The latest completed responses about this touchpoint (automated ones left out)."""
    return (
        Response.objects.for_org(org)
        .counted()
        .filter(touchpoint=touchpoint)
        .select_related("survey", "contact")
        .order_by("-submitted_at", "-id")[:limit]
    )


def touchpoint_response_count(*, org: Organization, touchpoint: Any) -> int:
    return Response.objects.for_org(org).counted().filter(touchpoint=touchpoint).count()


def touchpoint_panels(*, org: Organization, touchpoint: Any) -> list[dict[str, Any]]:
    """The touchpoint page's feedback: its surveys, campaigns and latest responses."""
    response_count = touchpoint_response_count(org=org, touchpoint=touchpoint)
    return [
        {
            "template": "feedback/_touchpoint_panel.html",
            "facts": [{"label": "Responses", "value": response_count}],
            "surveys": list(surveys_for_touchpoint(org=org, touchpoint=touchpoint)),
            "campaigns": list(campaigns_for_touchpoint(org=org, touchpoint=touchpoint)),
            "responses": list(recent_responses_for_touchpoint(org=org, touchpoint=touchpoint)),
            "response_count": response_count,
        }
    ]
