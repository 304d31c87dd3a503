"""The journey pages: every view as manager (may), viewer (reads; 403 on writes) and
outsider (404), the htmx fragments of the map, and the touchpoint page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import pytest
from django.http import QueryDict
from django.urls import reverse

from cxplatform.services import SYSTEM
from journeys import services
from journeys.models import Channel, Journey, Phase, Stage, Touchpoint
from tests.factories import TeamFactory
from tests.feedback.factories import CampaignFactory, ResponseFactory, SurveyFactory
from tests.journeys.factories import JourneyFactory, StageFactory, TouchpointFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def journey(org) -> Journey:
    journey = services.journey_create(
        org=org, name="Online purchase", persona="First-time buyer", actor=SYSTEM
    )
    for name, phase, touchpoints in [
        ("Discover", Phase.ATTRACTION, ["Ad", "Search"]),
        ("Buy", Phase.ENGAGEMENT, ["Checkout"]),
    ]:
        stage = services.stage_create(journey=journey, name=name, phase=phase, actor=SYSTEM)
        for tp in touchpoints:
            services.touchpoint_create(stage=stage, name=tp, actor=SYSTEM)
    return journey


def stage_of(journey: Journey, name: str) -> Stage:
    return journey.stages.get(name=name)


def order(stage: Stage) -> list[str]:
    return list(
        stage.touchpoints.filter(archived_at__isnull=True)
        .order_by("position")
        .values_list("name", flat=True)
    )


# --- who may do what ------------------------------------------------------------------


def write_requests(journey: Journey) -> list[tuple[str, str, dict]]:
    """(method, url, data) of every write, each valid for a manager."""
    discover = stage_of(journey, "Discover")
    ad = discover.touchpoints.get(name="Ad")
    search = discover.touchpoints.get(name="Search")
    return [
        ("get", reverse("journeys:journey_create"), {}),
        ("post", reverse("journeys:journey_create"), {"name": "New", "start": "five_phase"}),
        ("get", reverse("journeys:journey_edit", args=[journey.pk]), {}),
        ("post", reverse("journeys:journey_edit", args=[journey.pk]), {"name": "Renamed"}),
        ("get", reverse("journeys:stage_create", args=[journey.pk]), {}),
        (
            "post",
            reverse("journeys:stage_create", args=[journey.pk]),
            {"name": "Deliver", "phase": "exit"},
        ),
        ("get", reverse("journeys:stage_edit", args=[discover.pk]), {}),
        (
            "post",
            reverse("journeys:stage_edit", args=[discover.pk]),
            {"name": "Notice", "phase": "attraction"},
        ),
        ("post", reverse("journeys:stage_move", args=[discover.pk]), {"direction": "right"}),
        ("get", reverse("journeys:touchpoint_create", args=[discover.pk]), {}),
        (
            "post",
            reverse("journeys:touchpoint_create", args=[discover.pk]),
            {"name": "Flyer", "channel": "web", "component": "design"},
        ),
        ("get", reverse("journeys:touchpoint_edit", args=[ad.pk]), {}),
        (
            "post",
            reverse("journeys:touchpoint_edit", args=[ad.pk]),
            {"name": "Social ad", "channel": "social", "component": "design"},
        ),
        ("post", reverse("journeys:touchpoint_move", args=[ad.pk]), {"direction": "down"}),
        ("post", reverse("journeys:touchpoint_delete", args=[search.pk]), {}),
        ("post", reverse("journeys:touchpoint_restore", args=[ad.pk]), {}),
        ("post", reverse("journeys:stage_delete", args=[discover.pk]), {}),
        ("post", reverse("journeys:journey_archive", args=[journey.pk]), {}),
        ("post", reverse("journeys:journey_restore", args=[journey.pk]), {}),
        ("post", reverse("journeys:journey_delete", args=[journey.pk]), {}),
    ]


def test_a_manager_may_do_every_write(manager, journey):
    for method, url, data in write_requests(journey):
        response = getattr(manager, method)(url, data)
        assert response.status_code in {200, 302}, f"{method.upper()} {url}: {response.status_code}"


def test_a_viewer_and_an_agent_are_refused_every_write(viewer, agent, journey):
    for client in (viewer, agent):
        for method, url, data in write_requests(journey):
            response = getattr(client, method)(url, data)
            assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"
    journey.refresh_from_db()
    assert journey.name == "Online purchase"
    assert order(stage_of(journey, "Discover")) == ["Ad", "Search"]


def test_an_outsider_gets_404_for_every_row_of_another_organization(outsider, journey):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")
    reads = [
        reverse("journeys:journey_map", args=[journey.pk]),
        reverse("journeys:touchpoint_detail", args=[ad.pk]),
        f"{reverse('journeys:journey_create')}?copy={journey.pk}",
    ]
    for url in reads:
        assert outsider.get(url).status_code == 404, url
    for method, url, data in write_requests(journey):
        if "?" in url or url == reverse("journeys:journey_create"):
            continue
        response = getattr(outsider, method)(url, data)
        assert response.status_code == 404, f"{method.upper()} {url}: {response.status_code}"
    assert Touchpoint.objects.filter(pk=ad.pk, archived_at__isnull=True).exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client, journey):
    response = client.get(reverse("journeys:journey_map", args=[journey.pk]))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- the list -------------------------------------------------------------------------


def test_the_list_shows_the_organizations_journeys_with_their_counts(manager, journey, org):
    JourneyFactory(organization=org, name="Support request")

    response = manager.get(reverse("journeys:journey_list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Online purchase" in html
    assert "Support request" in html
    assert "First-time buyer" in html
    assert "2 stages" in html
    assert "3 touchpoints" in html
    assert "New journey" in html


def test_a_viewer_reads_the_list_without_the_new_journey_button(viewer, journey):
    response = viewer.get(reverse("journeys:journey_list"))

    assert response.status_code == 200
    assert "Online purchase" in response.content.decode()
    assert "New journey" not in response.content.decode()


def test_the_list_never_shows_another_organizations_journeys(outsider, journey):
    response = outsider.get(reverse("journeys:journey_list"))

    assert "Online purchase" not in response.content.decode()
    assert "Map your first customer journey" in response.content.decode()


def test_searching_the_list_through_htmx_returns_only_the_results(manager, journey, org):
    JourneyFactory(organization=org, name="Support request", persona="Customer with a problem")

    response = manager.get(reverse("journeys:journey_list"), {"q": "problem"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="results"' in html
    assert "Support request" in html
    assert "Online purchase" not in html
    assert response["Vary"]
    assert "HX-Request" in response["Vary"]


def test_a_search_without_matches_says_so(manager, journey):
    response = manager.get(reverse("journeys:journey_list"), {"q": "zeppelin"})

    assert "No journeys match your search" in response.content.decode()


@pytest.mark.parametrize("q", ["a\x00b", "%", "_", "' OR 1=1 --", "x" * 500])
def test_a_search_with_odd_characters_is_harmless(manager, journey, q):
    response = manager.get(reverse("journeys:journey_list"), {"q": q})

    assert response.status_code == 200


def test_archived_journeys_have_their_own_tab(manager, journey, org):
    services.journey_archive(journey=journey, actor=SYSTEM)

    active = manager.get(reverse("journeys:journey_list")).content.decode()
    archived = manager.get(reverse("journeys:journey_list"), {"show": "archived"}).content.decode()

    assert "Online purchase" not in active
    assert "Online purchase" in archived


def test_the_archived_tab_link_opens_the_archived_journeys(manager, journey, org):
    services.journey_archive(journey=journey, actor=SYSTEM)
    list_url = reverse("journeys:journey_list")
    active = manager.get(list_url, {"q": "purchase"}).content.decode()

    href = re.search(r'href="([^"]*)"><i class="bi bi-archive"', active).group(1)
    # Resolved as a browser does, relative to the page.
    target = urlsplit(urljoin(f"http://testserver{list_url}?q=purchase", html.unescape(href)))
    archived = manager.get(target.path, QueryDict(target.query))

    assert archived.context["show_archived"] is True
    assert archived.context["q"] == "purchase"
    assert "Online purchase" in archived.content.decode()


def test_the_list_needs_a_fixed_number_of_queries(manager, org, django_assert_max_num_queries):
    for i in range(8):
        journey = services.journey_create(
            org=org, name=f"Journey {i}", template=services.FIVE_PHASE, actor=SYSTEM
        )
        TouchpointFactory(organization=org, stage=journey.stages.first())

    with django_assert_max_num_queries(10):
        response = manager.get(reverse("journeys:journey_list"))
    assert response.status_code == 200


# --- creating and editing journeys ------------------------------------------------------


def test_a_manager_creates_a_journey_from_the_five_phase_template(manager, org):
    response = manager.post(
        reverse("journeys:journey_create"),
        {"name": "Renewal", "persona": "Member", "start": "five_phase"},
    )

    journey = Journey.objects.get(organization=org, name="Renewal")
    assert response.status_code == 302
    assert response["Location"] == reverse("journeys:journey_map", args=[journey.pk])
    assert list(journey.stages.values_list("phase", flat=True)) == [p.value for p in Phase]


def test_a_manager_creates_a_blank_journey(manager, org):
    manager.post(reverse("journeys:journey_create"), {"name": "Renewal", "start": "blank"})

    assert Journey.objects.get(organization=org, name="Renewal").stages.count() == 0


def test_the_duplicate_button_prefills_a_copy_and_the_copy_is_deep(manager, journey, org):
    form = manager.get(f"{reverse('journeys:journey_create')}?copy={journey.pk}")
    assert "Copy of Online purchase" in form.content.decode()

    manager.post(
        reverse("journeys:journey_create"),
        {"name": "Copy of Online purchase", "start": "copy", "copy_from": journey.pk},
    )

    copy = Journey.objects.get(organization=org, name="Copy of Online purchase")
    assert list(copy.stages.values_list("name", flat=True)) == ["Discover", "Buy"]
    assert order(copy.stages.get(name="Discover")) == ["Ad", "Search"]


def test_a_copy_without_a_journey_to_copy_shows_the_error(manager, org):
    response = manager.post(reverse("journeys:journey_create"), {"name": "X", "start": "copy"})

    assert response.status_code == 422
    assert "Choose the journey to copy." in response.content.decode()
    assert not Journey.objects.filter(name="X").exists()


def test_a_duplicate_name_is_shown_on_the_name_field(manager, journey):
    response = manager.post(
        reverse("journeys:journey_create"), {"name": "ONLINE purchase", "start": "blank"}
    )

    assert response.status_code == 422
    assert "A journey with this name already exists." in response.content.decode()
    assert "is-invalid" in response.content.decode()


def test_another_organizations_journey_is_not_offered_for_copying(manager, other_org):
    JourneyFactory(organization=other_org, name="Globex secret journey")

    response = manager.get(reverse("journeys:journey_create"))

    assert "Globex secret journey" not in response.content.decode()


def test_a_manager_edits_a_journey(manager, journey):
    response = manager.post(
        reverse("journeys:journey_edit", args=[journey.pk]),
        {"name": "Online order", "persona": "Returning buyer", "description": "Web shop"},
    )

    assert response.status_code == 302
    journey.refresh_from_db()
    assert (journey.name, journey.persona, journey.description) == (
        "Online order",
        "Returning buyer",
        "Web shop",
    )


def test_deleting_a_journey_with_feedback_archives_it_and_says_so(manager, journey):
    tp = stage_of(journey, "Buy").touchpoints.get()
    ResponseFactory(organization=journey.organization, touchpoint=tp)

    response = manager.post(reverse("journeys:journey_delete", args=[journey.pk]), follow=True)

    journey.refresh_from_db()
    assert journey.is_archived
    assert "archived rather than deleted" in response.content.decode()


def test_an_archived_journey_is_read_only_until_restored(manager, journey):
    services.journey_archive(journey=journey, actor=SYSTEM)

    html = manager.get(reverse("journeys:journey_map", args=[journey.pk])).content.decode()
    assert "read-only" in html
    assert "Add touchpoint" not in html

    manager.post(reverse("journeys:journey_restore", args=[journey.pk]))
    html = manager.get(reverse("journeys:journey_map", args=[journey.pk])).content.decode()
    assert "Add touchpoint" in html


# --- the map --------------------------------------------------------------------------


def test_the_map_shows_stages_in_order_with_their_touchpoint_cards(manager, journey, org):
    team = TeamFactory(organization=org, name="E-commerce")
    checkout = stage_of(journey, "Buy").touchpoints.get()
    services.touchpoint_update(
        touchpoint=checkout,
        data={"owner_team": team, "moment_of_truth": True, "channel": Channel.APP},
        actor=SYSTEM,
    )

    response = manager.get(reverse("journeys:journey_map", args=[journey.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Discover") < html.index("Buy")
    assert html.index(">Ad<") < html.index(">Search<")
    assert "phase-attraction" in html
    assert "phase-engagement" in html
    assert "bi-phone" in html  # the app channel's icon
    assert "E-commerce" in html
    assert "Moment of truth" in html
    assert "No metric yet" in html
    assert "Sortable.min.js" in html
    assert f'nonce="{response.context["csp_nonce"]}"' in html
    assert "css/journeys.css" in html


def test_a_viewer_reads_the_map_without_any_editing_control(viewer, journey):
    response = viewer.get(reverse("journeys:journey_map", args=[journey.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Checkout" in html
    for control in ["Add touchpoint", "Add stage", "Move Ad up", "data-editable", "Sortable"]:
        assert control not in html


def test_the_map_needs_a_fixed_number_of_queries(
    manager, journey, org, django_assert_max_num_queries
):
    for stage in journey.stages.all():
        for _i in range(6):
            TouchpointFactory(
                organization=org, stage=stage, owner_team=TeamFactory(organization=org)
            )

    with django_assert_max_num_queries(16):
        response = manager.get(reverse("journeys:journey_map", args=[journey.pk]))
    assert response.status_code == 200


def test_the_map_fragment_comes_alone_through_htmx(manager, journey):
    response = manager.get(reverse("journeys:journey_map", args=[journey.pk]), **HTMX)

    html = response.content.decode()
    assert html.strip().startswith('<div id="journey-map"')
    assert "<html" not in html
    assert response["HX-Retarget"] == "#journey-map"


def fake_health(*, org, touchpoint_ids):
    checkout = Touchpoint.objects.get(pk__in=touchpoint_ids, name="Checkout")
    return {checkout.pk: {"metric": "nps", "value": 42.0, "n": 120}}


def test_the_health_badge_reads_the_metric_rollups_when_scorecards_offers_them(
    manager, journey, contribute
):
    contribute("scorecards", "touchpoint.health", f"{__name__}.fake_health")

    html = manager.get(reverse("journeys:journey_map", args=[journey.pk])).content.decode()

    assert "NPS +42" in html
    assert "n=120" in html
    assert html.count("No metric yet") == 2  # Ad and Search have none


# --- inline editing with htmx -------------------------------------------------------------


def test_the_add_touchpoint_form_arrives_as_a_fragment(manager, journey):
    stage = stage_of(journey, "Discover")

    response = manager.get(reverse("journeys:touchpoint_create", args=[stage.pk]), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'id="tp-form-new-{stage.pk}"' in html
    assert 'hx-target="#journey-map"' in html


def test_adding_a_touchpoint_through_htmx_answers_with_the_new_map(manager, journey, org):
    stage = stage_of(journey, "Discover")
    team = TeamFactory(organization=org, name="Logistics")

    response = manager.post(
        reverse("journeys:touchpoint_create", args=[stage.pk]),
        {
            "name": "Newsletter",
            "channel": "email",
            "component": "design",
            "owner_team": team.pk,
            "moment_of_truth": "on",
        },
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="journey-map"' in html
    assert "Newsletter" in html
    assert 'id="map-status"' in html
    assert "hx-swap-oob" in html
    assert order(stage) == ["Ad", "Search", "Newsletter"]
    newsletter = stage.touchpoints.get(name="Newsletter")
    assert newsletter.owner_team == team
    assert newsletter.moment_of_truth


def test_an_invalid_touchpoint_comes_back_in_place_with_its_errors(manager, journey, other_org):
    stage = stage_of(journey, "Discover")
    foreign_team = TeamFactory(organization=other_org)

    response = manager.post(
        reverse("journeys:touchpoint_create", args=[stage.pk]),
        {"name": "", "channel": "pigeon", "component": "service", "owner_team": foreign_team.pk},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#tp-form-new-{stage.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    assert "This field is required." in html
    assert "Select a valid choice" in html
    assert html.count("is-invalid") >= 3
    assert order(stage) == ["Ad", "Search"]


def test_without_htmx_adding_a_touchpoint_is_a_plain_form_that_returns_to_the_map(manager, journey):
    stage = stage_of(journey, "Discover")
    page = manager.get(reverse("journeys:touchpoint_create", args=[stage.pk]))
    assert "<html" in page.content.decode()

    response = manager.post(
        reverse("journeys:touchpoint_create", args=[stage.pk]),
        {"name": "Billboard", "channel": "in_person", "component": "design"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("journeys:journey_map", args=[journey.pk])
    assert order(stage) == ["Ad", "Search", "Billboard"]


def test_editing_a_touchpoint_inline_replaces_its_card_then_the_map(manager, journey):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")

    form = manager.get(reverse("journeys:touchpoint_edit", args=[ad.pk]), **HTMX)
    assert f'id="tp-form-{ad.pk}"' in form.content.decode()

    response = manager.post(
        reverse("journeys:touchpoint_edit", args=[ad.pk]),
        {"name": "Instagram ad", "channel": "social", "component": "design"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "Instagram ad" in response.content.decode()
    ad.refresh_from_db()
    assert (ad.name, ad.channel) == ("Instagram ad", "social")


def test_adding_and_editing_a_stage_inline(manager, journey):
    response = manager.post(
        reverse("journeys:stage_create", args=[journey.pk]),
        {"name": "Deliver", "phase": "exit", "description": "Parcel at the door"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Deliver" in response.content.decode()
    deliver = stage_of(journey, "Deliver")
    assert deliver.position == 2

    invalid = manager.post(
        reverse("journeys:stage_edit", args=[deliver.pk]), {"name": "X", "phase": "?"}, **HTMX
    )
    assert invalid.status_code == 422
    assert invalid["HX-Retarget"] == f"#stage-form-{deliver.pk}"

    manager.post(
        reverse("journeys:stage_edit", args=[deliver.pk]),
        {"name": "Delivery", "phase": "exit"},
        **HTMX,
    )
    deliver.refresh_from_db()
    assert deliver.name == "Delivery"


# --- moving -----------------------------------------------------------------------------


def test_the_arrow_buttons_move_a_touchpoint_and_answer_with_the_map(manager, journey):
    discover, buy = stage_of(journey, "Discover"), stage_of(journey, "Buy")
    search = discover.touchpoints.get(name="Search")
    url = reverse("journeys:touchpoint_move", args=[search.pk])

    response = manager.post(url, {"direction": "up"}, **HTMX)
    assert response.status_code == 200
    assert order(discover) == ["Search", "Ad"]
    assert "is now number 1 in Discover" in response.content.decode()

    manager.post(url, {"direction": "right"}, **HTMX)
    assert order(discover) == ["Ad"]
    assert order(buy) == ["Search", "Checkout"]


def test_drag_and_drop_posts_a_stage_and_a_position(manager, journey):
    discover, buy = stage_of(journey, "Discover"), stage_of(journey, "Buy")
    ad = discover.touchpoints.get(name="Ad")

    response = manager.post(
        reverse("journeys:touchpoint_move", args=[ad.pk]),
        {"stage": buy.pk, "position": 1},
        **HTMX,
    )

    assert response.status_code == 200
    assert order(discover) == ["Search"]
    assert order(buy) == ["Checkout", "Ad"]


def test_without_htmx_a_move_redirects_back_to_the_map(manager, journey):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")

    response = manager.post(
        reverse("journeys:touchpoint_move", args=[ad.pk]), {"direction": "down"}
    )

    assert response.status_code == 302
    assert order(stage_of(journey, "Discover")) == ["Search", "Ad"]


@pytest.mark.parametrize(
    "data",
    [{}, {"direction": "sideways"}, {"position": "-1"}, {"position": "x"}],
    ids=["nothing", "bad-direction", "negative", "not-a-number"],
)
def test_a_move_that_makes_no_sense_changes_nothing_and_says_so(manager, journey, data):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")

    response = manager.post(reverse("journeys:touchpoint_move", args=[ad.pk]), data, **HTMX)

    assert response.status_code == 200
    assert "nothing changed" in response.content.decode()
    assert order(stage_of(journey, "Discover")) == ["Ad", "Search"]


def test_a_touchpoint_cannot_be_dragged_into_another_organizations_stage(
    manager, journey, other_org
):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")
    foreign = StageFactory(organization=other_org)

    manager.post(
        reverse("journeys:touchpoint_move", args=[ad.pk]),
        {"stage": foreign.pk, "position": 0},
        **HTMX,
    )

    ad.refresh_from_db()
    assert ad.stage == stage_of(journey, "Discover")
    assert not foreign.touchpoints.exists()


def test_stages_move_left_and_right_and_by_drag(manager, journey):
    buy = stage_of(journey, "Buy")

    manager.post(reverse("journeys:stage_move", args=[buy.pk]), {"direction": "left"}, **HTMX)
    assert list(journey.stages.values_list("name", flat=True)) == ["Buy", "Discover"]

    manager.post(reverse("journeys:stage_move", args=[buy.pk]), {"position": 1}, **HTMX)
    assert list(journey.stages.values_list("name", flat=True)) == ["Discover", "Buy"]


# --- deleting -------------------------------------------------------------------------


def test_deleting_a_touchpoint_with_feedback_archives_it_and_offers_a_restore(manager, journey):
    checkout = stage_of(journey, "Buy").touchpoints.get()
    ResponseFactory(organization=journey.organization, touchpoint=checkout)

    before = manager.get(reverse("journeys:journey_map", args=[journey.pk])).content.decode()
    assert f"Archive {checkout.name}" in before

    response = manager.post(reverse("journeys:touchpoint_delete", args=[checkout.pk]), **HTMX)

    html = response.content.decode()
    checkout.refresh_from_db()
    assert checkout.is_archived
    assert "Archived touchpoints (1)" in html
    assert "Restore" in html
    assert "archived rather than deleted" in html  # the toast

    manager.post(reverse("journeys:touchpoint_restore", args=[checkout.pk]), **HTMX)
    checkout.refresh_from_db()
    assert not checkout.is_archived


def test_deleting_a_stage_whose_touchpoint_has_feedback_explains_why_not(manager, journey):
    buy = stage_of(journey, "Buy")
    ResponseFactory(organization=journey.organization, touchpoint=buy.touchpoints.get())

    response = manager.post(reverse("journeys:stage_delete", args=[buy.pk]), **HTMX)

    assert response.status_code == 200
    assert "Move them to another stage first" in response.content.decode()
    assert Stage.objects.filter(pk=buy.pk).exists()


def test_deleting_a_stage_removes_its_column(manager, journey):
    buy = stage_of(journey, "Buy")

    response = manager.post(reverse("journeys:stage_delete", args=[buy.pk]), **HTMX)

    assert f'id="stage-{buy.pk}"' not in response.content.decode()
    assert not Stage.objects.filter(pk=buy.pk).exists()


# --- the touchpoint page ----------------------------------------------------------------


def test_the_touchpoint_page_shows_its_surveys_campaigns_and_recent_responses(viewer, journey, org):
    checkout = stage_of(journey, "Buy").touchpoints.get()
    services.touchpoint_update(
        touchpoint=checkout,
        data={
            "description": "Address, delivery and payment.",
            "owner_team": TeamFactory(organization=org, name="E-commerce"),
        },
        actor=SYSTEM,
    )
    survey = SurveyFactory(organization=org, name="Checkout NPS", touchpoint=checkout)
    CampaignFactory(organization=org, name="November pulse", survey=survey, touchpoint=checkout)
    ResponseFactory(
        organization=org,
        survey=survey,
        touchpoint=checkout,
        primary_score=3,
        comment="Card declined",
    )
    ResponseFactory(organization=org, survey=survey, touchpoint=None, comment="Elsewhere")

    response = viewer.get(reverse("journeys:touchpoint_detail", args=[checkout.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Address, delivery and payment." in html
    assert "E-commerce" in html
    assert "Checkout NPS" in html
    assert "November pulse" in html
    assert "Card declined" in html
    assert "Detractor" in html
    assert "Elsewhere" not in html
    assert "No metric yet" in html
    assert "Cases are coming" in html
    assert "Edit" not in html.split("<main", 1)[1].split("At a glance", 1)[0]


def test_the_touchpoint_page_without_feedback_shows_clear_empty_states(manager, journey):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")

    html = manager.get(reverse("journeys:touchpoint_detail", args=[ad.pk])).content.decode()

    assert "No survey asks about this touchpoint yet" in html
    assert "No campaigns for this touchpoint yet" in html
    assert "No responses yet" in html


def test_the_touchpoint_page_never_shows_another_organizations_feedback(
    manager, journey, other_org
):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")
    # A row of another organization pointing at this touchpoint cannot happen through the
    # services; the page must still not show it.
    ResponseFactory(organization=other_org, touchpoint=ad, comment="Globex secret")

    html = manager.get(reverse("journeys:touchpoint_detail", args=[ad.pk])).content.decode()

    assert "Globex secret" not in html


def test_an_archived_touchpoint_page_offers_a_restore(manager, journey):
    ad = stage_of(journey, "Discover").touchpoints.get(name="Ad")
    services.touchpoint_archive(touchpoint=ad, actor=SYSTEM)

    html = manager.get(reverse("journeys:touchpoint_detail", args=[ad.pk])).content.decode()

    assert "Archived" in html
    assert "Restore to the map" in html


def test_the_dashboard_counts_the_active_journeys_and_their_touchpoints(viewer, journey, org):
    archived = JourneyFactory(organization=org, name="Old")
    services.journey_archive(journey=archived, actor=SYSTEM)

    response = viewer.get(reverse("dashboard"))

    card = next(c for c in response.context["sections"] if c["label"] == "Journeys")
    assert card["value"] == 1
    assert card["hint"] == "3 touchpoints mapped"


def test_the_touchpoint_page_shows_a_response_without_a_contact_as_anonymous(viewer, journey, org):
    # Responses recorded through the API or an anonymous link have no contact.
    checkout = stage_of(journey, "Buy").touchpoints.get()
    ResponseFactory(organization=org, touchpoint=checkout, contact=None, comment="From the kiosk")

    response = viewer.get(reverse("journeys:touchpoint_detail", args=[checkout.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "From the kiosk" in html
    assert "Anonymous" in html


def test_the_touchpoint_page_shows_response_times_in_the_organizations_zone(viewer, journey, org):
    org.time_zone = "Asia/Tokyo"
    org.save()
    checkout = stage_of(journey, "Buy").touchpoints.get()
    submitted = datetime(2026, 11, 13, 20, 5, tzinfo=UTC)  # 14 Nov, 05:05 in Tokyo
    ResponseFactory(organization=org, touchpoint=checkout, submitted_at=submitted)

    html = viewer.get(reverse("journeys:touchpoint_detail", args=[checkout.pk])).content.decode()

    assert "14 Nov 2026, 05:05" in html
    assert "20:05" not in html


def test_a_campaign_sent_for_the_surveys_touchpoint_is_listed_on_that_touchpoint(viewer, org):
    checkout = TouchpointFactory(organization=org, name="Checkout")
    elsewhere = TouchpointFactory(organization=org, name="Elsewhere")
    survey = SurveyFactory(organization=org, name="Checkout NPS", touchpoint=checkout)
    CampaignFactory(organization=org, name="Inherits it", survey=survey, touchpoint=None)
    CampaignFactory(organization=org, name="Points elsewhere", survey=survey, touchpoint=elsewhere)
    page = viewer.get(reverse("journeys:touchpoint_detail", args=[checkout.pk])).content.decode()
    campaigns = page.split('id="campaigns-heading"', 1)[1].split("</section>", 1)[0]
    assert "Inherits it" in campaigns
    assert "Points elsewhere" not in campaigns
    assert '<span class="badge text-bg-light border">1</span>' in campaigns
    other = viewer.get(reverse("journeys:touchpoint_detail", args=[elsewhere.pk])).content.decode()
    assert "Points elsewhere" in other
    assert "Inherits it" not in other
