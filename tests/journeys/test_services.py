"""The rules of journeys.services: the template, deep copies, dense ordering after every
move, and feedback that is never deleted."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cxplatform.models import AuditEvent
from cxplatform.services import SYSTEM
from journeys import services
from journeys.models import Channel, Component, Journey, Phase, Stage, Touchpoint
from tests.factories import TeamFactory
from tests.feedback.factories import (
    CampaignFactory,
    InvitationFactory,
    ResponseFactory,
    SurveyFactory,
)
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def names(stage: Stage) -> list[str]:
    """The active touchpoints of ``stage`` in order, after checking positions are 0 … n-1."""
    rows = list(stage.touchpoints.filter(archived_at__isnull=True).order_by("position", "id"))
    assert [tp.position for tp in rows] == list(range(len(rows))), "positions are not dense"
    return [tp.name for tp in rows]


def stage_names(journey: Journey) -> list[str]:
    rows = list(journey.stages.order_by("position", "id"))
    assert [s.position for s in rows] == list(range(len(rows))), "positions are not dense"
    return [s.name for s in rows]


def make_stage(journey: Journey, name: str, touchpoints: list[str]) -> Stage:
    stage = services.stage_create(journey=journey, name=name, phase=Phase.ENGAGEMENT, actor=SYSTEM)
    for tp in touchpoints:
        services.touchpoint_create(stage=stage, name=tp, actor=SYSTEM)
    return stage


@pytest.fixture
def journey(org) -> Journey:
    return services.journey_create(org=org, name="Online purchase", actor=SYSTEM)


# --- creating ---------------------------------------------------------------------------


def test_the_five_phase_template_creates_one_stage_per_phase_in_order(org):
    journey = services.journey_create(
        org=org, name="Purchase", template=services.FIVE_PHASE, actor=SYSTEM
    )

    stages = list(journey.stages.order_by("position"))
    assert [s.phase for s in stages] == [
        Phase.ATTRACTION,
        Phase.ENTRY,
        Phase.ENGAGEMENT,
        Phase.EXIT,
        Phase.EXTENSION,
    ]
    assert [s.position for s in stages] == [0, 1, 2, 3, 4]
    assert [s.name for s in stages] == ["Attraction", "Entry", "Engagement", "Exit", "Extension"]
    assert all(s.description for s in stages)
    assert all(s.organization_id == org.pk for s in stages)


def test_a_blank_journey_starts_without_stages(org):
    journey = services.journey_create(org=org, name="Purchase", actor=SYSTEM)

    assert journey.stages.count() == 0


def test_an_unknown_template_is_refused_on_its_field(org):
    with pytest.raises(ValidationError) as error:
        services.journey_create(org=org, name="Purchase", template="six_phase", actor=SYSTEM)

    assert "template" in error.value.message_dict
    assert not Journey.objects.exists()


def test_journey_names_are_unique_in_an_organization_whatever_their_case(org, other_org):
    services.journey_create(org=org, name="Online purchase", actor=SYSTEM)

    with pytest.raises(ValidationError) as error:
        services.journey_create(org=org, name="online PURCHASE ", actor=SYSTEM)
    assert error.value.message_dict == {"name": [services.DUPLICATE_NAME]}

    # Another organization may use the same name.
    services.journey_create(org=other_org, name="Online purchase", actor=SYSTEM)


def test_renaming_a_journey_onto_another_name_is_refused(org):
    services.journey_create(org=org, name="Purchase", actor=SYSTEM)
    second = services.journey_create(org=org, name="Support", actor=SYSTEM)

    with pytest.raises(ValidationError) as error:
        services.journey_update(journey=second, data={"name": "PURCHASE"}, actor=SYSTEM)

    assert "name" in error.value.message_dict
    second.refresh_from_db()
    assert second.name == "Support"


def test_copying_a_journey_duplicates_its_stages_and_active_touchpoints(org, journey):
    team = TeamFactory(organization=org, name="Logistics")
    discover = make_stage(journey, "Discover", ["Ad", "Search"])
    deliver = services.stage_create(
        journey=journey, name="Deliver", phase=Phase.EXIT, description="Parcel", actor=SYSTEM
    )
    parcel = services.touchpoint_create(
        stage=deliver,
        name="Parcel",
        channel=Channel.IN_PERSON,
        component=Component.SERVICE,
        owner_team=team,
        moment_of_truth=True,
        description="At the door",
        actor=SYSTEM,
    )
    old = services.touchpoint_create(stage=deliver, name="Old flyer", actor=SYSTEM)
    services.touchpoint_archive(touchpoint=old, actor=SYSTEM)

    copy = services.journey_create(
        org=org, name="Copy of purchase", copy_from=journey, actor=SYSTEM
    )

    assert stage_names(copy) == ["Discover", "Deliver"]
    new_discover, new_deliver = copy.stages.order_by("position")
    assert {new_discover.pk, new_deliver.pk}.isdisjoint({discover.pk, deliver.pk})
    assert names(new_discover) == ["Ad", "Search"]
    assert names(new_deliver) == ["Parcel"]  # the archived touchpoint is history, not copied
    new_parcel = new_deliver.touchpoints.get()
    assert new_parcel.pk != parcel.pk
    assert (
        new_parcel.channel,
        new_parcel.component,
        new_parcel.owner_team,
        new_parcel.moment_of_truth,
        new_parcel.description,
    ) == (Channel.IN_PERSON, Component.SERVICE, team, True, "At the door")
    assert new_deliver.phase == Phase.EXIT
    assert new_deliver.description == "Parcel"
    assert copy.persona == journey.persona

    # Deep: changing the copy leaves the source alone.
    services.touchpoint_update(touchpoint=new_parcel, data={"name": "Locker"}, actor=SYSTEM)
    parcel.refresh_from_db()
    assert parcel.name == "Parcel"


def test_a_journey_of_another_organization_cannot_be_copied(org, other_org):
    foreign = JourneyFactory(organization=other_org)

    with pytest.raises(ValidationError) as error:
        services.journey_create(org=org, name="Mine", copy_from=foreign, actor=SYSTEM)

    assert "copy_from" in error.value.message_dict


# --- ordering ---------------------------------------------------------------------------


def test_a_touchpoint_added_at_a_position_moves_the_later_ones_on(journey):
    stage = make_stage(journey, "Buy", ["A", "B", "C"])

    services.touchpoint_create(stage=stage, name="New", position=1, actor=SYSTEM)

    assert names(stage) == ["A", "New", "B", "C"]


def test_moving_a_touchpoint_within_its_stage_keeps_positions_dense(journey):
    stage = make_stage(journey, "Buy", ["A", "B", "C", "D"])
    d = stage.touchpoints.get(name="D")

    services.touchpoint_move(touchpoint=d, stage=stage, position=0, actor=SYSTEM)
    assert names(stage) == ["D", "A", "B", "C"]

    a = stage.touchpoints.get(name="A")
    services.touchpoint_move(touchpoint=a, stage=stage, position=3, actor=SYSTEM)
    assert names(stage) == ["D", "B", "C", "A"]


def test_moving_a_touchpoint_to_another_stage_keeps_both_stages_dense(journey):
    source = make_stage(journey, "Buy", ["A", "B", "C"])
    target = make_stage(journey, "Deliver", ["X", "Y"])
    b = source.touchpoints.get(name="B")

    moved = services.touchpoint_move(touchpoint=b, stage=target, position=1, actor=SYSTEM)

    assert names(source) == ["A", "C"]
    assert names(target) == ["X", "B", "Y"]
    assert moved.stage == target
    assert moved.position == 1


def test_a_position_past_the_end_puts_the_touchpoint_last(journey):
    source = make_stage(journey, "Buy", ["A"])
    target = make_stage(journey, "Deliver", ["X", "Y"])

    services.touchpoint_move(
        touchpoint=source.touchpoints.get(), stage=target, position=99, actor=SYSTEM
    )

    assert names(source) == []
    assert names(target) == ["X", "Y", "A"]


def test_moving_a_touchpoint_to_where_it_is_changes_nothing(journey):
    stage = make_stage(journey, "Buy", ["A", "B"])
    b = stage.touchpoints.get(name="B")
    before = AuditEvent.objects.filter(action="touchpoint.moved").count()

    services.touchpoint_move(touchpoint=b, stage=stage, position=1, actor=SYSTEM)

    assert names(stage) == ["A", "B"]
    assert AuditEvent.objects.filter(action="touchpoint.moved").count() == before


def test_keyboard_steps_move_up_down_and_to_the_neighbour_stages(journey):
    first = make_stage(journey, "Discover", ["A", "B"])
    second = make_stage(journey, "Buy", ["X"])
    b = first.touchpoints.get(name="B")

    services.touchpoint_step(touchpoint=b, direction="up", actor=SYSTEM)
    assert names(first) == ["B", "A"]

    b.refresh_from_db()
    services.touchpoint_step(touchpoint=b, direction="right", actor=SYSTEM)
    assert names(first) == ["A"]
    assert names(second) == ["B", "X"]  # same place in the next stage

    b.refresh_from_db()
    services.touchpoint_step(touchpoint=b, direction="down", actor=SYSTEM)
    assert names(second) == ["X", "B"]

    b.refresh_from_db()
    services.touchpoint_step(touchpoint=b, direction="left", actor=SYSTEM)
    assert names(first) == ["A", "B"]
    assert names(second) == ["X"]


def test_keyboard_steps_at_an_edge_change_nothing(journey):
    only = make_stage(journey, "Buy", ["A", "B"])
    a, b = only.touchpoints.order_by("position")

    for touchpoint, direction in [(a, "up"), (b, "down"), (a, "left"), (a, "right")]:
        touchpoint.refresh_from_db()
        services.touchpoint_step(touchpoint=touchpoint, direction=direction, actor=SYSTEM)

    assert names(only) == ["A", "B"]
    assert not AuditEvent.objects.filter(action="touchpoint.moved").exists()


def test_an_unknown_direction_is_refused(journey):
    stage = make_stage(journey, "Buy", ["A"])

    with pytest.raises(ValidationError):
        services.touchpoint_step(
            touchpoint=stage.touchpoints.get(), direction="sideways", actor=SYSTEM
        )


def test_moving_stages_keeps_their_positions_dense(journey):
    for name in ["Discover", "Visit", "Buy", "Deliver"]:
        make_stage(journey, name, [])
    deliver = journey.stages.get(name="Deliver")

    services.stage_move(stage=deliver, position=0, actor=SYSTEM)
    assert stage_names(journey) == ["Deliver", "Discover", "Visit", "Buy"]

    discover = journey.stages.get(name="Discover")
    services.stage_step(stage=discover, direction="right", actor=SYSTEM)
    assert stage_names(journey) == ["Deliver", "Visit", "Discover", "Buy"]

    services.stage_move(stage=journey.stages.get(name="Visit"), position=50, actor=SYSTEM)
    assert stage_names(journey) == ["Deliver", "Discover", "Buy", "Visit"]


def test_a_stage_added_at_a_position_moves_the_later_ones_on(journey):
    make_stage(journey, "Discover", [])
    make_stage(journey, "Buy", [])

    services.stage_create(
        journey=journey, name="Visit", phase=Phase.ENTRY, position=1, actor=SYSTEM
    )

    assert stage_names(journey) == ["Discover", "Visit", "Buy"]


def test_a_touchpoint_cannot_move_into_another_organizations_stage(journey, other_org):
    stage = make_stage(journey, "Buy", ["A"])
    foreign = StageFactory(organization=other_org)

    with pytest.raises(ValidationError) as error:
        services.touchpoint_move(
            touchpoint=stage.touchpoints.get(), stage=foreign, position=0, actor=SYSTEM
        )

    assert "stage" in error.value.message_dict
    assert names(stage) == ["A"]


def test_a_touchpoint_cannot_belong_to_another_organizations_team(journey, other_org):
    stage = make_stage(journey, "Buy", [])

    with pytest.raises(ValidationError) as error:
        services.touchpoint_create(
            stage=stage, name="A", owner_team=TeamFactory(organization=other_org), actor=SYSTEM
        )

    assert "owner_team" in error.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_keep_positions_dense_on_postgresql(require_postgres, org):
    """Two sessions shuffle the same two stages at once: the row locks serialize them,
    so no position is lost or doubled."""
    journey = services.journey_create(org=org, name="Race", actor=SYSTEM)
    left = make_stage(journey, "Left", [f"L{i}" for i in range(6)])
    right = make_stage(journey, "Right", [f"R{i}" for i in range(6)])
    errors: list[BaseException] = []

    def shuffle(ids: list[int], seed: int) -> None:
        try:
            for step in range(12):
                tp = Touchpoint.objects.get(pk=ids[step % len(ids)])
                target = left if (step + seed) % 2 else right
                services.touchpoint_move(
                    touchpoint=tp, stage=target, position=(step * 7 + seed) % 5, actor=SYSTEM
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    ids = list(Touchpoint.objects.filter(stage__journey=journey).values_list("pk", flat=True))
    threads = [
        threading.Thread(target=shuffle, args=(ids[:6], 0)),
        threading.Thread(target=shuffle, args=(ids[6:], 1)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors, errors
    assert len(names(left)) + len(names(right)) == 12


# --- deleting and archiving ---------------------------------------------------------------


def test_deleting_a_touchpoint_without_feedback_deletes_it_and_closes_the_gap(journey):
    stage = make_stage(journey, "Buy", ["A", "B", "C"])

    outcome = services.touchpoint_delete(touchpoint=stage.touchpoints.get(name="B"), actor=SYSTEM)

    assert outcome == "deleted"
    assert names(stage) == ["A", "C"]
    assert not Touchpoint.objects.filter(name="B").exists()
    assert AuditEvent.objects.filter(action="touchpoint.deleted").exists()


@pytest.mark.parametrize(
    "feedback",
    [
        pytest.param(
            lambda tp: ResponseFactory(organization=tp.organization, touchpoint=tp), id="response"
        ),
        pytest.param(
            lambda tp: InvitationFactory(organization=tp.organization, touchpoint=tp),
            id="invitation",
        ),
        pytest.param(
            lambda tp: SurveyFactory(organization=tp.organization, touchpoint=tp), id="survey"
        ),
        pytest.param(
            lambda tp: CampaignFactory(organization=tp.organization, touchpoint=tp), id="campaign"
        ),
    ],
)
def test_deleting_a_touchpoint_with_feedback_archives_it_instead(journey, feedback):
    stage = make_stage(journey, "Buy", ["A", "B", "C"])
    b = stage.touchpoints.get(name="B")
    feedback(b)

    outcome = services.touchpoint_delete(touchpoint=b, actor=SYSTEM)

    assert outcome == "archived"
    b.refresh_from_db()
    assert b.is_archived
    assert names(stage) == ["A", "C"]  # off the map, out of the order
    assert AuditEvent.objects.filter(action="touchpoint.archived", object_id=str(b.pk)).exists()


def test_an_archived_touchpoint_is_restored_at_the_end_of_its_stage(journey):
    stage = make_stage(journey, "Buy", ["A", "B", "C"])
    a = stage.touchpoints.get(name="A")
    services.touchpoint_archive(touchpoint=a, actor=SYSTEM)
    services.touchpoint_archive(touchpoint=a, actor=SYSTEM)  # twice: harmless
    assert names(stage) == ["B", "C"]
    assert AuditEvent.objects.filter(action="touchpoint.archived").count() == 1

    services.touchpoint_restore(touchpoint=a, actor=SYSTEM)

    assert names(stage) == ["B", "C", "A"]


def test_an_archived_touchpoint_cannot_be_moved(journey):
    stage = make_stage(journey, "Buy", ["A", "B"])
    a = services.touchpoint_archive(touchpoint=stage.touchpoints.get(name="A"), actor=SYSTEM)

    with pytest.raises(ValidationError):
        services.touchpoint_move(touchpoint=a, stage=stage, position=1, actor=SYSTEM)


def test_deleting_a_stage_deletes_its_touchpoints_and_closes_the_gap(journey):
    make_stage(journey, "Discover", ["A"])
    buy = make_stage(journey, "Buy", ["B", "C"])
    make_stage(journey, "Deliver", [])

    services.stage_delete(stage=buy, actor=SYSTEM)

    assert stage_names(journey) == ["Discover", "Deliver"]
    assert not Touchpoint.objects.filter(name__in=["B", "C"]).exists()


def test_deleting_a_stage_whose_touchpoint_has_feedback_is_refused(journey):
    buy = make_stage(journey, "Buy", ["A"])
    tp = buy.touchpoints.get()
    services.touchpoint_archive(touchpoint=tp, actor=SYSTEM)  # archived ones count too
    ResponseFactory(organization=tp.organization, touchpoint=tp)

    with pytest.raises(ValidationError):
        services.stage_delete(stage=buy, actor=SYSTEM)

    assert Stage.objects.filter(pk=buy.pk).exists()


def test_deleting_a_journey_without_feedback_deletes_everything(journey):
    make_stage(journey, "Buy", ["A", "B"])

    assert services.journey_delete(journey=journey, actor=SYSTEM) == "deleted"

    assert not Journey.objects.exists()
    assert not Touchpoint.objects.exists()
    assert AuditEvent.objects.filter(action="journey.deleted").exists()


def test_deleting_a_journey_with_feedback_archives_it_and_keeps_everything(journey):
    stage = make_stage(journey, "Buy", ["A", "B"])
    ResponseFactory(organization=journey.organization, touchpoint=stage.touchpoints.first())

    assert services.journey_delete(journey=journey, actor=SYSTEM) == "archived"

    journey.refresh_from_db()
    assert journey.is_archived
    assert Touchpoint.objects.filter(stage__journey=journey).count() == 2


def test_archiving_and_restoring_a_journey_is_safe_to_repeat(journey):
    services.journey_archive(journey=journey, actor=SYSTEM)
    services.journey_archive(journey=journey, actor=SYSTEM)
    assert journey.is_archived
    services.journey_restore(journey=journey, actor=SYSTEM)
    services.journey_restore(journey=journey, actor=SYSTEM)
    assert not journey.is_archived

    actions = list(
        AuditEvent.objects.filter(object_id=str(journey.pk)).values_list("action", flat=True)
    )
    assert actions.count("journey.archived") == 1
    assert actions.count("journey.restored") == 1


def test_every_change_is_audited_with_its_actor(org, manager_user):
    from cxplatform.services import Actor

    actor = Actor(user=manager_user)
    journey = services.journey_create(
        org=org, name="Purchase", template=services.FIVE_PHASE, actor=actor
    )
    stage = journey.stages.first()
    tp = services.touchpoint_create(stage=stage, name="Ad", actor=actor)
    services.touchpoint_update(touchpoint=tp, data={"channel": Channel.SOCIAL}, actor=actor)
    services.touchpoint_move(touchpoint=tp, stage=journey.stages.last(), position=0, actor=actor)
    services.stage_update(stage=stage, data={"name": "Discover"}, actor=actor)

    events = AuditEvent.objects.filter(organization=org, actor_user=manager_user)
    assert set(events.values_list("action", flat=True)) >= {
        "journey.created",
        "touchpoint.created",
        "touchpoint.updated",
        "touchpoint.moved",
        "stage.updated",
    }
    update = events.get(action="touchpoint.updated")
    assert update.changes == {"channel": [Channel.WEB, Channel.SOCIAL]}


def test_the_factory_builds_a_touchpoint_inside_one_organization(org):
    tp = TouchpointFactory(organization=org)

    assert tp.stage.organization == org
    assert tp.stage.journey.organization == org
