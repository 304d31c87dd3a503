"""Business operations on journeys, stages and touchpoints.

Ordering: positions are dense (0 … n-1) among a journey's stages and among a stage's
*active* touchpoints (archived touchpoints keep their last position but take no place in
the order). Every operation that changes an order locks the parent rows and then the
siblings (``select_for_update``, in id order so two moves never deadlock) and renumbers
inside its transaction, so concurrent moves cannot leave gaps or duplicates.

Deleting never destroys feedback: a touchpoint that responses, invitations, surveys or
campaigns point at is archived instead, and so is a journey that holds one. Journeys do
not ask feedback: its foreign keys to touchpoints are ``PROTECT``, so the delete itself
raises ``ProtectedError`` and the operation archives instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from cxplatform.models import Organization, Team
from cxplatform.services import Actor, audit, update_fields
from journeys.models import PHASE_HINTS, Channel, Component, Journey, Phase, Stage, Touchpoint

FIVE_PHASE = "five_phase"
BLANK = "blank"
TEMPLATES = {
    FIVE_PHASE: "Five phases: Attraction, Entry, Engagement, Exit, Extension",
    BLANK: "Blank: no stages yet",
}
DUPLICATE_NAME = "A journey with this name already exists."
# The keyboard moves of the map: up/down within a stage, left/right to the neighbour stage.
DIRECTIONS = ("up", "down", "left", "right")


class Outcome(models.TextChoices):
    """What a delete did: the row is gone, or (it has feedback) archived instead."""

    DELETED = "deleted", "Deleted"
    ARCHIVED = "archived", "Archived"


# --- helpers ---------------------------------------------------------------------------


def _clamp(position: int | None, size: int) -> int:
    """``position`` limited to 0 … size (None: the end)."""
    if position is None:
        return size
    return max(0, min(int(position), size))


def _renumber(rows: Sequence[models.Model]) -> None:
    """Give ``rows`` the positions 0 … n-1 in list order, writing only what changed."""
    changed = []
    for index, row in enumerate(rows):
        if row.position != index:
            row.position = index
            changed.append(row)
    if changed:
        type(changed[0]).objects.bulk_update(changed, ["position"])


def _lock_journey(journey_id: int) -> None:
    list(Journey.objects.filter(pk=journey_id).select_for_update().values_list("pk", flat=True))


def _locked_stages(journey_id: int) -> list[Stage]:
    _lock_journey(journey_id)
    return list(
        Stage.objects.filter(journey_id=journey_id).order_by("position", "id").select_for_update()
    )


def _locked_touchpoints(stage_ids: Iterable[int]) -> dict[int, list[Touchpoint]]:
    """The active touchpoints of each stage, in order, with the stages and them locked."""
    ids = sorted(set(stage_ids))
    list(Stage.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk"))
    rows = list(
        Touchpoint.objects.filter(stage_id__in=ids, archived_at__isnull=True)
        .order_by("pk")
        .select_for_update()
    )
    by_stage: dict[int, list[Touchpoint]] = {pk: [] for pk in ids}
    for row in sorted(rows, key=lambda r: (r.position, r.pk)):
        by_stage[row.stage_id].append(row)
    return by_stage


def _check_same_org(org_id: int, field: str, obj: models.Model | None, label: str) -> None:
    if obj is not None and obj.organization_id != org_id:
        raise ValidationError({field: f"No such {label} in this organization."})


def _check_journey_name(org: Organization, name: str, exclude_pk: int | None = None) -> None:
    clash = Journey.objects.for_org(org).filter(name__iexact=name.strip())
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": DUPLICATE_NAME})


def _save_journey(journey: Journey) -> None:
    """Insert or save; the unique constraint is the guard against a concurrent twin."""
    try:
        with transaction.atomic():
            journey.save()
    except IntegrityError as exc:
        raise ValidationError({"name": DUPLICATE_NAME}) from exc


# --- journeys --------------------------------------------------------------------------


@transaction.atomic
def journey_create(
    *,
    org: Organization,
    name: str,
    actor: Actor,
    persona: str = "",
    description: str = "",
    active: bool = True,
    template: str = BLANK,
    copy_from: Journey | None = None,
) -> Journey:
    """Create a journey, empty, from the five-phase template (one stage per phase, in
    order) or as a deep copy of ``copy_from`` (its stages and active touchpoints).

    Raises ValidationError (by field) for a duplicate name or an unknown template."""
    if copy_from is not None:
        _check_same_org(org.pk, "copy_from", copy_from, "journey")
        return journey_copy(
            source=copy_from, name=name, persona=persona, description=description, actor=actor
        )
    if template not in TEMPLATES:
        raise ValidationError({"template": f"Unknown template “{template}”."})
    _check_journey_name(org, name)
    journey = Journey(
        organization=org, name=name.strip(), persona=persona, description=description, active=active
    )
    journey.full_clean(validate_constraints=False)
    _save_journey(journey)
    if template == FIVE_PHASE:
        Stage.objects.bulk_create(
            Stage(
                organization=org,
                journey=journey,
                name=phase.label,
                phase=phase.value,
                description=PHASE_HINTS[phase],
                position=index,
            )
            for index, phase in enumerate(Phase)
        )
    audit(
        org=org,
        actor=actor,
        action="journey.created",
        obj=journey,
        changes={"template": [None, template]},
    )
    return journey


@transaction.atomic
def journey_copy(
    *,
    source: Journey,
    name: str,
    actor: Actor,
    persona: str | None = None,
    description: str | None = None,
) -> Journey:
    """A new journey with copies of ``source``'s stages and active touchpoints, in the same
    order, with the same phases, channels, components, owner teams and moments of truth.
    Nothing is shared with the source afterwards; feedback is not copied."""
    org = source.organization
    _check_journey_name(org, name)
    journey = Journey(
        organization=org,
        name=name.strip(),
        persona=persona or source.persona,
        description=description or source.description,
        active=source.active,
    )
    journey.full_clean(validate_constraints=False)
    _save_journey(journey)
    stages = list(source.stages.order_by("position", "id"))
    copies = Stage.objects.bulk_create(
        Stage(
            organization=org,
            journey=journey,
            name=stage.name,
            phase=stage.phase,
            description=stage.description,
            position=index,
        )
        for index, stage in enumerate(stages)
    )
    new_stage_of = {old.pk: new for old, new in zip(stages, copies, strict=True)}
    touchpoints = Touchpoint.objects.filter(stage__in=stages, archived_at__isnull=True).order_by(
        "stage_id", "position", "id"
    )
    positions: dict[int, int] = {}
    new_touchpoints = []
    for tp in touchpoints:
        index = positions.get(tp.stage_id, 0)
        positions[tp.stage_id] = index + 1
        new_touchpoints.append(
            Touchpoint(
                organization=org,
                stage=new_stage_of[tp.stage_id],
                name=tp.name,
                description=tp.description,
                channel=tp.channel,
                component=tp.component,
                owner_team_id=tp.owner_team_id,
                moment_of_truth=tp.moment_of_truth,
                position=index,
            )
        )
    Touchpoint.objects.bulk_create(new_touchpoints)
    audit(
        org=org,
        actor=actor,
        action="journey.created",
        obj=journey,
        changes={"copied_from": [None, source.name]},
    )
    return journey


@transaction.atomic
def journey_update(*, journey: Journey, data: dict[str, Any], actor: Actor) -> Journey:
    """Change name, persona, description or active. Raises ValidationError by field."""
    allowed = {"name", "persona", "description", "active"}
    data = {key: value for key, value in data.items() if key in allowed}
    if "name" in data:
        data["name"] = data["name"].strip()
        _check_journey_name(journey.organization, data["name"], exclude_pk=journey.pk)
    try:
        with transaction.atomic():
            return update_fields(instance=journey, data=data, actor=actor, action="journey.updated")
    except IntegrityError as exc:
        raise ValidationError({"name": DUPLICATE_NAME}) from exc


@transaction.atomic
def journey_archive(*, journey: Journey, actor: Actor) -> Journey:
    """Archive (hide from the list, keep everything). Archiving twice changes nothing."""
    updated = Journey.objects.filter(pk=journey.pk, archived_at__isnull=True).update(
        archived_at=timezone.now()
    )
    journey.refresh_from_db()
    if updated:
        audit(org=journey.organization, actor=actor, action="journey.archived", obj=journey)
    return journey


@transaction.atomic
def journey_restore(*, journey: Journey, actor: Actor) -> Journey:
    updated = Journey.objects.filter(pk=journey.pk, archived_at__isnull=False).update(
        archived_at=None
    )
    journey.refresh_from_db()
    if updated:
        audit(org=journey.organization, actor=actor, action="journey.restored", obj=journey)
    return journey


@transaction.atomic
def journey_delete(*, journey: Journey, actor: Actor) -> Outcome:
    """Delete the journey with its stages and touchpoints, unless one of its touchpoints
    has feedback (or a survey or campaign): then the journey is archived instead."""
    _lock_journey(journey.pk)
    try:
        with transaction.atomic():
            audit(org=journey.organization, actor=actor, action="journey.deleted", obj=journey)
            journey.delete()
    except ProtectedError:  # feedback points at one of its touchpoints: keep it all
        journey_archive(journey=journey, actor=actor)
        return Outcome.ARCHIVED
    return Outcome.DELETED


# --- stages ----------------------------------------------------------------------------


@transaction.atomic
def stage_create(
    *,
    journey: Journey,
    name: str,
    phase: str,
    actor: Actor,
    description: str = "",
    position: int | None = None,
) -> Stage:
    """Add a stage at ``position`` (default: the end); later stages move one place on."""
    siblings = _locked_stages(journey.pk)
    stage = Stage(
        organization=journey.organization,
        journey=journey,
        name=name.strip(),
        phase=phase,
        description=description,
        position=_clamp(position, len(siblings)),
    )
    stage.full_clean()
    stage.save()
    siblings.insert(stage.position, stage)
    _renumber(siblings)
    audit(org=journey.organization, actor=actor, action="stage.created", obj=stage)
    return stage


@transaction.atomic
def stage_update(*, stage: Stage, data: dict[str, Any], actor: Actor) -> Stage:
    """Change name, phase or description (moves go through ``stage_move``)."""
    allowed = {"name", "phase", "description"}
    data = {key: value for key, value in data.items() if key in allowed}
    return update_fields(instance=stage, data=data, actor=actor, action="stage.updated")


@transaction.atomic
def stage_move(*, stage: Stage, position: int, actor: Actor) -> Stage:
    """Put ``stage`` at ``position`` among its journey's stages (clamped to the ends);
    the others close up. Moving to where it already is changes nothing."""
    siblings = _locked_stages(stage.journey_id)
    current = next(s for s in siblings if s.pk == stage.pk)
    old = siblings.index(current)
    siblings.remove(current)
    new = _clamp(position, len(siblings))
    siblings.insert(new, current)
    _renumber(siblings)
    if new != old:
        audit(
            org=stage.organization,
            actor=actor,
            action="stage.moved",
            obj=current,
            changes={"position": [old, new]},
        )
    stage.position = current.position
    return stage


@transaction.atomic
def stage_delete(*, stage: Stage, actor: Actor) -> None:
    """Delete a stage and its touchpoints. Refused (ValidationError) while one of its
    touchpoints, archived or not, has feedback: move those to another stage first."""
    siblings = _locked_stages(stage.journey_id)
    pk = stage.pk  # delete() clears it
    try:
        with transaction.atomic():
            audit(org=stage.organization, actor=actor, action="stage.deleted", obj=stage)
            stage.delete()
    except ProtectedError:
        raise ValidationError(
            "This stage has touchpoints with feedback, surveys or campaigns. Move them to "
            "another stage first (restore archived ones to move them)."
        ) from None
    _renumber([s for s in siblings if s.pk != pk])


# --- touchpoints -----------------------------------------------------------------------


@transaction.atomic
def touchpoint_create(
    *,
    stage: Stage,
    name: str,
    actor: Actor,
    channel: str = Channel.WEB,
    component: str = Component.SERVICE,
    owner_team: Team | None = None,
    moment_of_truth: bool = False,
    description: str = "",
    position: int | None = None,
) -> Touchpoint:
    """Add a touchpoint to ``stage`` at ``position`` (default: the end)."""
    _check_same_org(stage.organization_id, "owner_team", owner_team, "team")
    siblings = _locked_touchpoints([stage.pk])[stage.pk]
    touchpoint = Touchpoint(
        organization=stage.organization,
        stage=stage,
        name=name.strip(),
        channel=channel,
        component=component,
        owner_team=owner_team,
        moment_of_truth=moment_of_truth,
        description=description,
        position=_clamp(position, len(siblings)),
    )
    touchpoint.full_clean()
    touchpoint.save()
    siblings.insert(touchpoint.position, touchpoint)
    _renumber(siblings)
    audit(org=stage.organization, actor=actor, action="touchpoint.created", obj=touchpoint)
    return touchpoint


@transaction.atomic
def touchpoint_update(*, touchpoint: Touchpoint, data: dict[str, Any], actor: Actor) -> Touchpoint:
    """Change what a touchpoint is (name, channel, component, owner team, moment of truth,
    description). Moves go through ``touchpoint_move``."""
    allowed = {"name", "channel", "component", "owner_team", "moment_of_truth", "description"}
    data = {key: value for key, value in data.items() if key in allowed}
    _check_same_org(touchpoint.organization_id, "owner_team", data.get("owner_team"), "team")
    return update_fields(instance=touchpoint, data=data, actor=actor, action="touchpoint.updated")


@transaction.atomic
def touchpoint_move(
    *, touchpoint: Touchpoint, stage: Stage, position: int | None, actor: Actor
) -> Touchpoint:
    """Put ``touchpoint`` at ``position`` (clamped; None: the end) in ``stage``, which may be another stage,
    even of another journey of the organization. Both the source and the target stage stay
    dense (0 … n-1). Moving to where it already is changes nothing."""
    _check_same_org(touchpoint.organization_id, "stage", stage, "stage")
    if touchpoint.archived_at is not None:
        raise ValidationError("An archived touchpoint cannot be moved; restore it first.")
    source_id = touchpoint.stage_id
    by_stage = _locked_touchpoints([source_id, stage.pk])
    source = by_stage[source_id]
    current = next((t for t in source if t.pk == touchpoint.pk), None)
    if current is None:  # archived or moved meanwhile: the locked rows are the truth
        raise ValidationError("This touchpoint changed meanwhile; reload and try again.")
    old = source.index(current)
    source.remove(current)
    target = source if stage.pk == source_id else by_stage[stage.pk]
    new = _clamp(position, len(target))
    target.insert(new, current)
    if stage.pk != source_id:
        Touchpoint.objects.filter(pk=current.pk).update(stage=stage)
        current.stage = stage
        _renumber(source)
    _renumber(target)
    if stage.pk != source_id or new != old:
        audit(
            org=touchpoint.organization,
            actor=actor,
            action="touchpoint.moved",
            obj=current,
            changes={"stage": [source_id, stage.pk], "position": [old, new]},
        )
    touchpoint.stage, touchpoint.position = stage, current.position
    return touchpoint


@transaction.atomic
def touchpoint_archive(*, touchpoint: Touchpoint, actor: Actor) -> Touchpoint:
    """Take the touchpoint off the map, keeping it and its feedback. Safe to repeat."""
    siblings = _locked_touchpoints([touchpoint.stage_id])[touchpoint.stage_id]
    updated = Touchpoint.objects.filter(pk=touchpoint.pk, archived_at__isnull=True).update(
        archived_at=timezone.now()
    )
    if updated:
        _renumber([t for t in siblings if t.pk != touchpoint.pk])
        audit(
            org=touchpoint.organization, actor=actor, action="touchpoint.archived", obj=touchpoint
        )
    touchpoint.refresh_from_db()
    return touchpoint


@transaction.atomic
def touchpoint_restore(*, touchpoint: Touchpoint, actor: Actor) -> Touchpoint:
    """Put an archived touchpoint back on the map, at the end of its stage."""
    siblings = _locked_touchpoints([touchpoint.stage_id])[touchpoint.stage_id]
    updated = Touchpoint.objects.filter(pk=touchpoint.pk, archived_at__isnull=False).update(
        archived_at=None, position=len(siblings)
    )
    if updated:
        audit(
            org=touchpoint.organization, actor=actor, action="touchpoint.restored", obj=touchpoint
        )
    touchpoint.refresh_from_db()
    return touchpoint


@transaction.atomic
def touchpoint_delete(*, touchpoint: Touchpoint, actor: Actor) -> Outcome:
    """Delete the touchpoint, or archive it when feedback (responses, invitations) or
    feedback set-up (surveys, campaigns) points at it. Returns what happened."""
    siblings = _locked_touchpoints([touchpoint.stage_id])[touchpoint.stage_id]
    pk = touchpoint.pk  # delete() clears it
    try:
        with transaction.atomic():
            audit(
                org=touchpoint.organization,
                actor=actor,
                action="touchpoint.deleted",
                obj=touchpoint,
            )
            touchpoint.delete()
    except ProtectedError:  # feedback or its set-up points at it: keep it, off the map
        touchpoint_archive(touchpoint=touchpoint, actor=actor)
        return Outcome.ARCHIVED
    _renumber([t for t in siblings if t.pk != pk])
    return Outcome.DELETED


@transaction.atomic
def touchpoint_step(*, touchpoint: Touchpoint, direction: str, actor: Actor) -> Touchpoint:
    """One keyboard move: ``up`` / ``down`` within the stage, ``left`` / ``right`` to the
    previous / next stage of the journey at the same place (clamped). At an edge nothing
    changes."""
    if direction not in DIRECTIONS:
        raise ValidationError({"direction": f"Unknown direction “{direction}”."})
    if direction in {"up", "down"}:
        step = -1 if direction == "up" else 1
        return touchpoint_move(
            touchpoint=touchpoint,
            stage=touchpoint.stage,
            position=max(0, touchpoint.position + step),
            actor=actor,
        )
    stages = list(
        Stage.objects.filter(journey_id=touchpoint.stage.journey_id).order_by("position", "id")
    )
    index = next(i for i, s in enumerate(stages) if s.pk == touchpoint.stage_id)
    index += -1 if direction == "left" else 1
    if not 0 <= index < len(stages):
        return touchpoint
    return touchpoint_move(
        touchpoint=touchpoint, stage=stages[index], position=touchpoint.position, actor=actor
    )


@transaction.atomic
def stage_step(*, stage: Stage, direction: str, actor: Actor) -> Stage:
    """One keyboard move of a stage: ``left`` or ``right`` by one place."""
    if direction not in {"left", "right"}:
        raise ValidationError({"direction": f"Unknown direction “{direction}”."})
    step = -1 if direction == "left" else 1
    return stage_move(stage=stage, position=max(0, stage.position + step), actor=actor)
