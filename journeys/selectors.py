"""Reads of journeys, stages and touchpoints, always scoped to one organization and carrying
the select_related / prefetch_related their callers need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet

from cxplatform import extensions
from cxplatform.models import Organization, Team
from journeys.models import Journey, Stage, Touchpoint


def journey_list(
    *, org: Organization, q: str = "", archived: bool | None = False
) -> QuerySet[Journey]:
    """Journeys with their stage and (active) touchpoint counts, and their stages in order
    (name and phase only, for the phase strip).

    ``archived``: False = active journeys only, True = archived only, None = both.
    """
    journeys = Journey.objects.for_org(org)
    if archived is not None:
        journeys = journeys.filter(archived_at__isnull=not archived)
    if q:
        journeys = journeys.filter(
            Q(name__icontains=q) | Q(persona__icontains=q) | Q(description__icontains=q)
        )
    active_tp = Q(stages__touchpoints__archived_at__isnull=True)
    strip = Stage.objects.order_by("position", "id").only("id", "journey_id", "name", "phase")
    return (
        journeys.prefetch_related(Prefetch("stages", queryset=strip))
        .annotate(
            stage_count=Count("stages", distinct=True),
            touchpoint_count=Count("stages__touchpoints", filter=active_tp, distinct=True),
            moment_count=Count(
                "stages__touchpoints",
                filter=active_tp & Q(stages__touchpoints__moment_of_truth=True),
                distinct=True,
            ),
        )
        .order_by("name", "id")
    )


def journey_qs(*, org: Organization) -> QuerySet[Journey]:
    """Every journey of ``org`` (archived too): for looking one up by id."""
    return Journey.objects.for_org(org)


def journey_map(*, org: Organization) -> QuerySet[Journey]:
    """Journeys with their stages in order, and each stage's active touchpoints in order
    with their owner team: everything the journey map shows, in three queries."""
    touchpoints = (
        Touchpoint.objects.for_org(org)
        .active()
        .select_related("owner_team")
        .order_by("position", "id")
    )
    stages = (
        Stage.objects.for_org(org)
        .order_by("position", "id")
        .prefetch_related(Prefetch("touchpoints", queryset=touchpoints))
    )
    return Journey.objects.for_org(org).prefetch_related(Prefetch("stages", queryset=stages))


def archived_touchpoints(*, org: Organization, journey: Journey) -> QuerySet[Touchpoint]:
    return (
        Touchpoint.objects.for_org(org)
        .filter(stage__journey=journey, archived_at__isnull=False)
        .select_related("stage", "owner_team")
        .order_by("-archived_at", "-id")
    )


def stage_list(*, org: Organization) -> QuerySet[Stage]:
    return (
        Stage.objects.for_org(org)
        .select_related("journey")
        .order_by("journey__name", "journey_id", "position", "id")
    )


def touchpoint_list(*, org: Organization) -> QuerySet[Touchpoint]:
    return (
        Touchpoint.objects.for_org(org)
        .select_related("stage__journey", "owner_team")
        .order_by("stage__journey_id", "stage__position", "stage_id", "position", "id")
    )


def touchpoint_choices(*, org: Organization, keep: int | None = None) -> QuerySet[Touchpoint]:
    """The touchpoints a survey, campaign or invitation may be attached to: active
    touchpoints of active journeys, grouped by journey and in map order, with their stage
    and journey. ``keep``: the id of a touchpoint already chosen, kept even if archived
    since, so that editing the row does not fail on a choice its user never touched."""
    usable = Q(archived_at__isnull=True, stage__journey__archived_at__isnull=True)
    if keep is not None:
        usable |= Q(pk=keep)
    return (
        Touchpoint.objects.for_org(org)
        .filter(usable)
        .select_related("stage__journey")
        .order_by("stage__journey__name", "stage__journey_id", "stage__position", "position", "id")
    )


def team_choices(*, org: Organization) -> QuerySet[Team]:
    return Team.objects.for_org(org).order_by("name")


@dataclass(frozen=True)
class Health:
    """A touchpoint's headline score: ``metric`` ("nps" or "csat"), its value and its n."""

    metric: str
    value: float
    n: int

    @property
    def label(self) -> str:
        return {"nps": "NPS", "csat": "CSAT"}.get(self.metric, self.metric.upper())

    @property
    def low_sample(self) -> bool:
        return self.n < 30

    @property
    def display(self) -> str:
        if self.metric == "csat":
            return f"{self.value:.0f}%"
        return f"{self.value:+.0f}" if self.value else "0"

    @property
    def tone(self) -> str:
        """good / fair / poor, for the badge's colour."""
        if self.metric == "csat":
            return "good" if self.value >= 80 else "fair" if self.value >= 60 else "poor"
        return "good" if self.value >= 30 else "fair" if self.value >= 0 else "poor"


def touchpoint_health(*, org: Organization, touchpoint_ids: list[int]) -> dict[int, Health]:
    """The health badge of each touchpoint, read from the metric rollups.

    The rollups belong to scorecards, which builds on journeys: it contributes
    ``touchpoint.health(org=, touchpoint_ids=)`` returning ``{touchpoint_id: {"metric",
    "value", "n"}}`` (``cxplatform.extensions``). Without it every touchpoint shows the
    "No metric yet" state. Raw responses are never scanned here.
    """
    readers = extensions.contributions("touchpoint.health")
    if not touchpoint_ids or not readers:
        return {}
    reader = readers[-1]
    rows: dict[int, Any] = reader(org=org, touchpoint_ids=list(touchpoint_ids))
    health = {}
    for pk, row in rows.items():
        if row and row.get("n"):
            health[int(pk)] = Health(
                metric=str(row["metric"]), value=float(row["value"]), n=int(row["n"])
            )
    return health


def touchpoint_ids_kept(*, org: Organization, touchpoint_ids: list[int]) -> set[int]:
    """Of ``touchpoint_ids``, those that other apps' rows protect from deletion (their
    ``PROTECT`` foreign keys: feedback's responses, invitations, surveys, campaigns), so
    deleting them archives instead. Read from the relations, without knowing the apps."""
    if not touchpoint_ids:
        return set()
    kept: set[int] = set()
    for relation in Touchpoint._meta.related_objects:
        if relation.on_delete is not models.PROTECT:
            continue
        rows = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__in": touchpoint_ids}
        )
        if any(f.name == "organization" for f in relation.related_model._meta.fields):
            rows = rows.filter(organization=org)
        kept.update(rows.values_list(relation.field.attname, flat=True).distinct())
    return kept
