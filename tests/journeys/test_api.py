"""The journeys API: /api/v1/journeys/, /api/v1/stages/, /api/v1/touchpoints/ (the public
contract, so the paths are literal)."""

from __future__ import annotations

import pytest

from cxplatform.models import AuditEvent, Role
from cxplatform.services import SYSTEM
from journeys import services
from journeys.models import Journey, Phase, Stage, Touchpoint
from tests.factories import TeamFactory
from tests.feedback.factories import ResponseFactory
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

PHASES = ["attraction", "entry", "engagement", "exit", "extension"]


@pytest.fixture
def journey(org) -> Journey:
    journey = services.journey_create(
        org=org, name="Online purchase", template=services.FIVE_PHASE, actor=SYSTEM
    )
    stages = list(journey.stages.order_by("position"))
    for name in ["Ad", "Search"]:
        services.touchpoint_create(stage=stages[0], name=name, actor=SYSTEM)
    services.touchpoint_create(stage=stages[2], name="Checkout", actor=SYSTEM)
    return journey


def stage_at(journey: Journey, phase: str) -> Stage:
    return journey.stages.get(phase=phase)


def order(stage: Stage) -> list[str]:
    rows = list(stage.touchpoints.filter(archived_at__isnull=True).order_by("position"))
    assert [tp.position for tp in rows] == list(range(len(rows)))
    return [tp.name for tp in rows]


# --- journeys ---------------------------------------------------------------------------


def test_creating_with_the_five_phase_template_makes_the_five_stages(api, org):
    response = api.post(
        "/api/v1/journeys/?template=five_phase",
        {"name": "Renewal", "persona": "Member"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Renewal"
    assert [s["phase"] for s in body["stages"]] == PHASES
    assert [s["position"] for s in body["stages"]] == [0, 1, 2, 3, 4]
    assert all(s["touchpoints"] == [] for s in body["stages"])
    assert "template" not in body
    assert Journey.objects.get(pk=body["id"]).organization == org


def test_the_template_may_also_come_in_the_body(api):
    response = api.post(
        "/api/v1/journeys/", {"name": "Renewal", "template": "five_phase"}, format="json"
    )

    assert [s["phase"] for s in response.json()["stages"]] == PHASES


def test_without_a_template_the_journey_starts_blank(api):
    response = api.post("/api/v1/journeys/", {"name": "Renewal"}, format="json")

    assert response.status_code == 201
    assert response.json()["stages"] == []


def test_an_unknown_template_is_a_field_error(api):
    response = api.post("/api/v1/journeys/?template=seven_phase", {"name": "X"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "template" in response.json()["fields"]
    assert not Journey.objects.filter(name="X").exists()


def test_copying_a_journey_through_the_api_is_deep(api, journey):
    response = api.post(
        "/api/v1/journeys/", {"name": "Copy", "copy_from": journey.pk}, format="json"
    )

    assert response.status_code == 201, response.json()
    stages = response.json()["stages"]
    assert [s["phase"] for s in stages] == PHASES
    assert [tp["name"] for tp in stages[0]["touchpoints"]] == ["Ad", "Search"]
    source_ids = set(Touchpoint.objects.filter(stage__journey=journey).values_list("pk", flat=True))
    assert not source_ids & {tp["id"] for s in stages for tp in s["touchpoints"]}


def test_another_organizations_journey_cannot_be_copied(api, other_org):
    foreign = JourneyFactory(organization=other_org)

    response = api.post(
        "/api/v1/journeys/", {"name": "Copy", "copy_from": foreign.pk}, format="json"
    )

    assert response.status_code == 400
    assert "copy_from" in response.json()["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "online PURCHASE"}, "name"),
        ({"name": "Ok", "active": "maybe"}, "active"),
    ],
    ids=["missing", "empty", "blank", "too-long", "duplicate", "not-a-boolean"],
)
def test_invalid_journeys_get_field_errors(api, journey, payload, field):
    response = api.post("/api/v1/journeys/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


def test_reading_a_journey_nests_its_stages_and_active_touchpoints_in_order(api, journey, org):
    team = TeamFactory(organization=org)
    search = Touchpoint.objects.get(name="Search")
    services.touchpoint_update(
        touchpoint=search, data={"owner_team": team, "moment_of_truth": True}, actor=SYSTEM
    )
    services.touchpoint_move(touchpoint=search, stage=search.stage, position=0, actor=SYSTEM)
    services.touchpoint_archive(touchpoint=Touchpoint.objects.get(name="Ad"), actor=SYSTEM)

    body = api.get(f"/api/v1/journeys/{journey.pk}/").json()

    assert [s["phase"] for s in body["stages"]] == PHASES
    first = body["stages"][0]["touchpoints"]
    assert [tp["name"] for tp in first] == ["Search"]
    assert first[0]["owner_team"] == team.pk
    assert first[0]["moment_of_truth"] is True
    assert set(first[0]) == {
        "id",
        "name",
        "description",
        "channel",
        "component",
        "owner_team",
        "moment_of_truth",
        "position",
    }


def test_the_journey_list_needs_a_fixed_number_of_queries(api, org, django_assert_max_num_queries):
    for i in range(6):
        journey = services.journey_create(
            org=org, name=f"J{i}", template=services.FIVE_PHASE, actor=SYSTEM
        )
        TouchpointFactory(organization=org, stage=journey.stages.first())

    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/journeys/")
    assert response.json()["count"] == 6


def test_journeys_are_searched_and_filtered(api, journey, org):
    archived = JourneyFactory(organization=org, name="Old support")
    services.journey_archive(journey=archived, actor=SYSTEM)

    def names(query: str) -> list[str]:
        return [j["name"] for j in api.get(f"/api/v1/journeys/{query}").json()["results"]]

    assert names("") == ["Old support", "Online purchase"]
    assert names("?archived=true") == ["Old support"]
    assert names("?archived=false") == ["Online purchase"]
    assert names("?search=purchase") == ["Online purchase"]
    assert names("?name=support") == ["Old support"]


def test_updating_a_journey(api, journey):
    response = api.patch(
        f"/api/v1/journeys/{journey.pk}/", {"persona": "Returning buyer"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["persona"] == "Returning buyer"
    assert len(response.json()["stages"]) == 5
    assert AuditEvent.objects.filter(action="journey.updated", object_id=str(journey.pk)).exists()


def test_the_template_only_applies_on_create(api, journey):
    response = api.patch(
        f"/api/v1/journeys/{journey.pk}/", {"template": "five_phase"}, format="json"
    )

    assert response.status_code == 400
    assert "template" in response.json()["fields"]


def test_deleting_a_journey_without_feedback_deletes_it(api, journey):
    response = api.delete(f"/api/v1/journeys/{journey.pk}/")

    assert response.status_code == 204
    assert not Journey.objects.filter(pk=journey.pk).exists()


def test_deleting_a_journey_with_feedback_archives_it(api, journey):
    ResponseFactory(organization=journey.organization, touchpoint=Touchpoint.objects.first())

    response = api.delete(f"/api/v1/journeys/{journey.pk}/")

    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    assert Journey.objects.filter(pk=journey.pk).exists()


def test_archive_and_restore_actions(api, journey):
    archived = api.post(f"/api/v1/journeys/{journey.pk}/archive/")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None

    restored = api.post(f"/api/v1/journeys/{journey.pk}/restore/")
    assert restored.json()["archived_at"] is None


# --- stages -------------------------------------------------------------------------------


def test_adding_a_stage_at_a_position(api, journey):
    response = api.post(
        "/api/v1/stages/",
        {"journey": journey.pk, "name": "Pick-up", "phase": "exit", "position": 3},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["position"] == 3
    names = list(journey.stages.order_by("position").values_list("name", flat=True))
    assert names == ["Attraction", "Entry", "Engagement", "Pick-up", "Exit", "Extension"]


def test_moving_a_stage_by_its_position(api, journey):
    exit_stage = stage_at(journey, "exit")

    response = api.patch(f"/api/v1/stages/{exit_stage.pk}/", {"position": 0}, format="json")

    assert response.status_code == 200
    assert response.json()["position"] == 0
    assert list(journey.stages.order_by("position").values_list("phase", flat=True)) == [
        "exit",
        "attraction",
        "entry",
        "engagement",
        "extension",
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "phase": "exit"}, "journey"),
        ({"journey": 999999, "name": "X", "phase": "exit"}, "journey"),
        ({"journey": "JOURNEY", "name": "X", "phase": "middle"}, "phase"),
        ({"journey": "JOURNEY", "phase": "exit"}, "name"),
        ({"journey": "JOURNEY", "name": "X", "phase": "exit", "position": -1}, "position"),
    ],
    ids=["no-journey", "unknown-journey", "bad-phase", "no-name", "negative-position"],
)
def test_invalid_stages_get_field_errors(api, journey, payload, field):
    payload = {k: (journey.pk if v == "JOURNEY" else v) for k, v in payload.items()}

    response = api.post("/api/v1/stages/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


def test_a_stage_cannot_be_added_to_another_organizations_journey(api, other_org):
    foreign = JourneyFactory(organization=other_org)

    response = api.post(
        "/api/v1/stages/", {"journey": foreign.pk, "name": "X", "phase": "exit"}, format="json"
    )

    assert response.status_code == 400
    assert "journey" in response.json()["fields"]
    assert not foreign.stages.exists()


def test_a_stage_cannot_move_to_another_journey(api, journey, org):
    other = JourneyFactory(organization=org)

    response = api.patch(
        f"/api/v1/stages/{stage_at(journey, 'exit').pk}/", {"journey": other.pk}, format="json"
    )

    assert response.status_code == 400
    assert "journey" in response.json()["fields"]


def test_stages_are_filtered_by_journey_and_phase(api, journey, org):
    StageFactory(organization=org, phase=Phase.EXIT)

    by_journey = api.get(f"/api/v1/stages/?journey={journey.pk}").json()
    by_both = api.get(f"/api/v1/stages/?journey={journey.pk}&phase=exit").json()
    by_phase = api.get("/api/v1/stages/?phase=exit").json()

    assert by_journey["count"] == 5
    assert [s["phase"] for s in by_both["results"]] == ["exit"]
    assert by_phase["count"] == 2


def test_deleting_a_stage_with_feedback_is_refused_with_a_reason(api, journey):
    engagement = stage_at(journey, "engagement")
    ResponseFactory(organization=journey.organization, touchpoint=engagement.touchpoints.get())

    response = api.delete(f"/api/v1/stages/{engagement.pk}/")

    assert response.status_code == 400
    assert "feedback" in str(response.json()["fields"])
    assert Stage.objects.filter(pk=engagement.pk).exists()


def test_deleting_a_stage_closes_the_gap(api, journey):
    response = api.delete(f"/api/v1/stages/{stage_at(journey, 'entry').pk}/")

    assert response.status_code == 204
    assert list(journey.stages.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
        2,
        3,
    ]


# --- touchpoints ----------------------------------------------------------------------------


def test_adding_a_touchpoint_with_every_field(api, journey, org):
    team = TeamFactory(organization=org, name="Logistics")
    attraction = stage_at(journey, "attraction")

    response = api.post(
        "/api/v1/touchpoints/",
        {
            "stage": attraction.pk,
            "name": "Billboard",
            "description": "At the station",
            "channel": "in_person",
            "component": "design",
            "owner_team": team.pk,
            "moment_of_truth": True,
            "position": 0,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["journey"] == journey.pk
    assert body["phase"] == "attraction"
    assert body["position"] == 0
    assert body["owner_team"] == team.pk
    assert body["archived_at"] is None
    assert order(attraction) == ["Billboard", "Ad", "Search"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X"}, "stage"),
        ({"stage": "STAGE"}, "name"),
        ({"stage": "STAGE", "name": "X", "channel": "pigeon"}, "channel"),
        ({"stage": "STAGE", "name": "X", "component": "magic"}, "component"),
        ({"stage": "STAGE", "name": "X", "owner_team": 999999}, "owner_team"),
        ({"stage": "STAGE", "name": "X", "moment_of_truth": "perhaps"}, "moment_of_truth"),
        ({"stage": "STAGE", "name": "X", "position": "first"}, "position"),
        ({"stage": "STAGE", "name": "x" * 201}, "name"),
    ],
    ids=[
        "no-stage",
        "no-name",
        "bad-channel",
        "bad-component",
        "unknown-team",
        "bad-flag",
        "bad-position",
        "too-long",
    ],
)
def test_invalid_touchpoints_get_field_errors(api, journey, payload, field):
    stage = stage_at(journey, "exit")
    payload = {k: (stage.pk if v == "STAGE" else v) for k, v in payload.items()}

    response = api.post("/api/v1/touchpoints/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"], response.json()
    assert not stage.touchpoints.exists()


def test_another_organizations_stage_and_team_are_unknown_here(api, journey, other_org):
    foreign_stage = StageFactory(organization=other_org)
    foreign_team = TeamFactory(organization=other_org)

    response = api.post(
        "/api/v1/touchpoints/",
        {"stage": foreign_stage.pk, "name": "X", "owner_team": foreign_team.pk},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"stage", "owner_team"}


def test_patching_position_and_stage_moves_a_touchpoint_and_keeps_order_dense(api, journey):
    attraction, engagement = stage_at(journey, "attraction"), stage_at(journey, "engagement")
    ad = attraction.touchpoints.get(name="Ad")

    within = api.patch(f"/api/v1/touchpoints/{ad.pk}/", {"position": 1}, format="json")
    assert within.status_code == 200
    assert within.json()["position"] == 1
    assert order(attraction) == ["Search", "Ad"]

    across = api.patch(
        f"/api/v1/touchpoints/{ad.pk}/",
        {"stage": engagement.pk, "position": 0, "name": "Display ad"},
        format="json",
    )
    assert across.status_code == 200
    assert across.json()["stage"] == engagement.pk
    assert across.json()["phase"] == "engagement"
    assert order(attraction) == ["Search"]
    assert order(engagement) == ["Display ad", "Checkout"]


def test_a_new_stage_without_a_position_puts_the_touchpoint_last(api, journey):
    ad = Touchpoint.objects.get(name="Ad")
    engagement = stage_at(journey, "engagement")

    api.patch(f"/api/v1/touchpoints/{ad.pk}/", {"stage": engagement.pk}, format="json")

    assert order(engagement) == ["Checkout", "Ad"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("phase=attraction", {"Ad", "Search"}),
        ("channel=phone", {"Search"}),
        ("component=design", {"Checkout"}),
        ("moment_of_truth=true", {"Checkout"}),
        ("team=TEAM", {"Ad"}),
        ("stage=ENGAGEMENT", {"Checkout"}),
        ("search=sear", {"Search"}),
        ("archived=true", set()),
    ],
)
def test_touchpoints_are_filtered(api, journey, org, query, expected):
    team = TeamFactory(organization=org)
    services.touchpoint_update(
        touchpoint=Touchpoint.objects.get(name="Ad"), data={"owner_team": team}, actor=SYSTEM
    )
    services.touchpoint_update(
        touchpoint=Touchpoint.objects.get(name="Search"), data={"channel": "phone"}, actor=SYSTEM
    )
    services.touchpoint_update(
        touchpoint=Touchpoint.objects.get(name="Checkout"),
        data={"component": "design", "moment_of_truth": True},
        actor=SYSTEM,
    )
    TouchpointFactory(organization=org, name="Elsewhere")  # another journey of the org
    query = query.replace("TEAM", str(team.pk)).replace(
        "ENGAGEMENT", str(stage_at(journey, "engagement").pk)
    )

    response = api.get(f"/api/v1/touchpoints/?journey={journey.pk}&{query}")

    assert response.status_code == 200
    assert {tp["name"] for tp in response.json()["results"]} == expected


def test_an_invalid_filter_value_is_a_field_error(api):
    response = api.get("/api/v1/touchpoints/?channel=pigeon")

    assert response.status_code == 400
    assert "channel" in response.json()["fields"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        # Found by schemathesis: a 500 (the number overflowed the query).
        ("/api/v1/touchpoints/", "journey=-1.1351908224962735e%2B129"),
        ("/api/v1/touchpoints/", f"stage={2**63}"),
        ("/api/v1/touchpoints/", "team=1.5"),
        ("/api/v1/stages/", f"journey={2**64}"),
        ("/api/v1/stages/", "journey=0"),
    ],
)
def test_an_id_filter_that_is_no_id_is_a_field_error(api, path, query):
    response = api.get(f"{path}?{query}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [query.split("=")[0]]


def test_the_schema_documents_id_filters_as_integers(api):
    paths = api.get("/api/v1/schema/?format=json").json()["paths"]

    listing = paths["/api/v1/touchpoints/"]["get"]
    types = {p["name"]: p["schema"]["type"] for p in listing["parameters"]}
    assert types["journey"] == types["stage"] == types["team"] == "integer"
    assert "400" in listing["responses"]


def test_deleting_a_touchpoint_without_feedback_deletes_it(api, journey):
    ad = Touchpoint.objects.get(name="Ad")

    response = api.delete(f"/api/v1/touchpoints/{ad.pk}/")

    assert response.status_code == 204
    assert order(stage_at(journey, "attraction")) == ["Search"]


def test_deleting_a_touchpoint_with_feedback_archives_it_and_restore_brings_it_back(api, journey):
    ad = Touchpoint.objects.get(name="Ad")
    ResponseFactory(organization=journey.organization, touchpoint=ad)

    response = api.delete(f"/api/v1/touchpoints/{ad.pk}/")

    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    assert order(stage_at(journey, "attraction")) == ["Search"]
    archived = api.get(f"/api/v1/touchpoints/?journey={journey.pk}&archived=true").json()
    assert [tp["id"] for tp in archived["results"]] == [ad.pk]

    restored = api.post(f"/api/v1/touchpoints/{ad.pk}/restore/")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert order(stage_at(journey, "attraction")) == ["Search", "Ad"]


def test_the_touchpoint_list_needs_a_fixed_number_of_queries(
    api, org, django_assert_max_num_queries
):
    for _ in range(10):
        TouchpointFactory(organization=org, owner_team=TeamFactory(organization=org))

    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/touchpoints/")
    assert response.json()["count"] == 10


# --- roles and the schema -------------------------------------------------------------------


def test_a_read_only_key_reads_but_cannot_write(api_client_for, org, journey):
    viewer = api_client_for(org, Role.VIEWER)
    ad = Touchpoint.objects.get(name="Ad")

    assert viewer.get("/api/v1/journeys/").status_code == 200
    assert viewer.get(f"/api/v1/touchpoints/{ad.pk}/").status_code == 200
    assert viewer.post("/api/v1/journeys/", {"name": "X"}, format="json").status_code == 403
    assert (
        viewer.patch(f"/api/v1/touchpoints/{ad.pk}/", {"position": 1}, format="json").status_code
        == 403
    )
    assert viewer.delete(f"/api/v1/touchpoints/{ad.pk}/").status_code == 403
    assert viewer.post(f"/api/v1/journeys/{journey.pk}/archive/").status_code == 403
    assert order(stage_at(journey, "attraction")) == ["Ad", "Search"]


def test_another_organization_sees_none_of_it(outsider_api, journey):
    ad = Touchpoint.objects.get(name="Ad")

    assert outsider_api.get("/api/v1/journeys/").json()["count"] == 0
    assert outsider_api.get("/api/v1/touchpoints/").json()["count"] == 0
    assert outsider_api.get(f"/api/v1/journeys/{journey.pk}/").status_code == 404
    assert (
        outsider_api.patch(
            f"/api/v1/touchpoints/{ad.pk}/", {"name": "Hacked"}, format="json"
        ).status_code
        == 404
    )
    ad.refresh_from_db()
    assert ad.name == "Ad"


def test_the_schema_documents_the_journeys_endpoints(api):
    schema = api.get("/api/v1/schema/?format=json").json()

    paths = schema["paths"]
    for path in [
        "/api/v1/journeys/",
        "/api/v1/journeys/{id}/",
        "/api/v1/journeys/{id}/archive/",
        "/api/v1/stages/",
        "/api/v1/stages/{id}/",
        "/api/v1/touchpoints/",
        "/api/v1/touchpoints/{id}/",
        "/api/v1/touchpoints/{id}/restore/",
    ]:
        assert path in paths, path
    create = paths["/api/v1/journeys/"]["post"]
    assert any(p["name"] == "template" for p in create["parameters"])
    assert "400" in create["responses"]
    listing = {p["name"] for p in paths["/api/v1/touchpoints/"]["get"]["parameters"]}
    assert {"journey", "stage", "phase", "channel", "component", "team", "archived"} <= listing
    deletion = paths["/api/v1/touchpoints/{id}/"]["delete"]["responses"]
    assert {"200", "204", "404"} <= set(deletion)
