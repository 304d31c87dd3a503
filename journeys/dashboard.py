"""The journeys card of the dashboard (read by cxplatform.views._dashboard_parts)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse

from cxplatform.models import Organization
from journeys.models import Journey


def cards(*, org: Organization) -> list[dict[str, Any]]:
    counts = (
        Journey.objects.for_org(org)
        .active()
        .aggregate(
            journeys=Count("id", distinct=True),
            touchpoints=Count(
                "stages__touchpoints",
                filter=Q(stages__touchpoints__archived_at__isnull=True),
                distinct=True,
            ),
        )
    )
    touchpoints = counts["touchpoints"]
    return [
        {
            "label": "Journeys",
            "icon": "signpost-split",
            "value": counts["journeys"],
            "hint": f"{touchpoints} touchpoint{'s' if touchpoints != 1 else ''} mapped",
            "url": reverse("journeys:journey_list"),
        }
    ]
