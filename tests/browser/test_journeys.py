"""A manager builds a journey map in a real Chromium: from the five-phase template, adds
touchpoints inline, reorders them with the keyboard and by drag and drop, without a page
reload; a viewer reads it. Screenshots of every journeys page go to test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from journeys import demo
from journeys.models import Journey, Touchpoint
from tests.factories import TeamFactory
from tests.feedback.factories import CampaignFactory, ResponseFactory, SurveyFactory

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}
TEAMS = ["Customer Care", "E-commerce", "Logistics", "Retail Stores", "Billing"]


def column(page: Page, stage_name: str):
    return page.locator("section.stage-col").filter(
        has=page.get_by_role("heading", name=stage_name, exact=True)
    )


def card_names(page: Page, stage_name: str) -> list[str]:
    return column(page, stage_name).locator(".tp-card h3").all_inner_texts()


def test_a_manager_builds_a_journey_from_the_template_and_rearranges_it_without_reloading(
    page, live_server, login, manager_user, org, screenshot
):
    TeamFactory(organization=org, name="Retail Stores")
    page.set_viewport_size(LAPTOP)
    login(page, manager_user.email)

    page.locator("#sidebar").get_by_role("link", name="Journeys", exact=True).click()
    expect(page.get_by_role("heading", name="Map your first customer journey")).to_be_visible()
    page.get_by_role("link", name="New journey").first.click()

    page.get_by_label("Name").fill("Store visit")
    page.get_by_label("Persona").fill("Weekend shopper")
    expect(page.get_by_label("The five-phase template")).to_be_checked()
    expect(page.locator("#copy-from-group")).to_be_hidden()
    page.get_by_role("button", name="Create journey").click()
    page.wait_for_url(re.compile(r"/journeys/\d+/$"))

    stage_titles = page.locator("section.stage-col[data-stage-id] h2")
    expect(stage_titles).to_have_text(["Attraction", "Entry", "Engagement", "Exit", "Extension"])
    page.evaluate("window.notReloaded = true")

    # Add two touchpoints to Entry, inline.
    entry = column(page, "Entry")
    entry.get_by_role("link", name="Add touchpoint to Entry").click()
    form = entry.locator("form").filter(has=page.get_by_label("Name"))
    expect(form.get_by_label("Name")).to_be_focused()
    form.get_by_label("Name").fill("Greeting at the door")
    form.get_by_label("Channel").select_option(label="In person")
    form.get_by_label("Owner team").select_option(label="Retail Stores")
    form.get_by_label("Moment of truth").check()
    form.get_by_role("button", name="Add touchpoint").click()
    expect(column(page, "Entry").locator(".tp-card")).to_have_count(1)

    # An invalid form stays in place with its error.
    column(page, "Entry").get_by_role("link", name="Add touchpoint to Entry").click()
    form = column(page, "Entry").locator("form").filter(has=page.get_by_label("Name"))
    form.get_by_label("Name").fill("   ")
    form.get_by_role("button", name="Add touchpoint").click()
    expect(column(page, "Entry").get_by_text("This field is required.")).to_be_visible()
    form = column(page, "Entry").locator("form").filter(has=page.get_by_label("Name"))
    form.get_by_label("Name").fill("Store locator")
    form.get_by_label("Channel").select_option(label="Web")
    form.get_by_role("button", name="Add touchpoint").click()
    expect(column(page, "Entry").locator(".tp-card h3")).to_have_text(
        ["Greeting at the door", "Store locator"]
    )
    greeting = column(page, "Entry").locator(".tp-card").first
    expect(greeting).to_contain_text("In person")
    expect(greeting).to_contain_text("Retail Stores")
    expect(greeting).to_contain_text("No metric yet")
    expect(greeting.get_by_text("Moment of truth")).to_be_attached()

    # Reorder with the keyboard: the focus stays on the moved card.
    page.get_by_role("button", name="Move Store locator up").focus()
    page.keyboard.press("Enter")
    expect(column(page, "Entry").locator(".tp-card h3")).to_have_text(
        ["Store locator", "Greeting at the door"]
    )
    expect(page.locator("#map-status")).to_have_text(re.compile("now number 1 in Entry"))
    locator_id = Touchpoint.objects.get(name="Store locator").pk
    page.wait_for_function(
        "key => (document.activeElement.getAttribute('data-focus-key') || '').startsWith(key)",
        arg=f"tp-{locator_id}-",
    )

    page.get_by_role("button", name="Move Store locator to the next stage").click()
    expect(column(page, "Engagement").locator(".tp-card h3")).to_have_text(["Store locator"])
    expect(column(page, "Entry").locator(".tp-card h3")).to_have_text(["Greeting at the door"])

    # Drag and drop the greeting into Engagement, below the store locator.
    handle = column(page, "Entry").locator(".tp-drag").first
    target = column(page, "Engagement").locator(".tp-item").last
    box = target.bounding_box()
    handle.hover()
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.5, steps=10)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.9, steps=10)
    with page.expect_response(lambda r: "/move/" in r.url and r.status == 200):
        page.mouse.up()
    page.wait_for_load_state("networkidle")
    expect(column(page, "Entry").locator(".tp-card")).to_have_count(0)
    expect(column(page, "Engagement").locator(".tp-card")).to_have_count(2)
    shown = card_names(page, "Engagement")

    assert page.evaluate("window.notReloaded === true"), "the page was reloaded"
    journey = Journey.objects.get(organization=org, name="Store visit")
    engagement = journey.stages.get(name="Engagement")
    stored = list(engagement.touchpoints.order_by("position").values_list("name", flat=True))
    assert stored == shown
    assert list(engagement.touchpoints.order_by("position").values_list("position", flat=True)) == [
        0,
        1,
    ]
    assert not journey.stages.get(name="Entry").touchpoints.exists()

    # Survives a reload: the server's order is what the map shows.
    page.reload()
    expect(column(page, "Engagement").locator(".tp-card h3")).to_have_text(stored)
    screenshot(page, "journeys-map-built-laptop")


def test_screenshots_of_the_journey_pages_on_a_laptop_and_a_phone(
    page, live_server, login, manager_user, org, screenshot
):
    for name in TEAMS:
        TeamFactory(organization=org, name=name)
    demo.seed(org=org, quick=True)
    purchase = Journey.objects.get(organization=org, name="Online shop purchase")
    checkout = Touchpoint.objects.get(stage__journey=purchase, name="Checkout and payment")
    survey = SurveyFactory(organization=org, name="Checkout NPS", touchpoint=checkout)
    CampaignFactory(organization=org, name="Checkout pulse", survey=survey, touchpoint=checkout)
    for score, comment in [
        (10, "Quick and easy, PayPal worked at once."),
        (6, "The card payment failed twice before it went through."),
        (9, ""),
        (8, "Fine, but the address form forgot my details."),
    ]:
        ResponseFactory(
            organization=org,
            survey=survey,
            touchpoint=checkout,
            primary_score=score,
            comment=comment,
        )

    page.set_viewport_size(LAPTOP)
    login(page, manager_user.email)
    page.goto(f"{live_server.url}/journeys/")
    expect(page.get_by_role("link", name="Online shop purchase")).to_be_visible()
    screenshot(page, "journeys-list-laptop")

    page.get_by_role("link", name="Online shop purchase").click()
    expect(page.locator("section.stage-col[data-stage-id]")).to_have_count(5)
    screenshot(page, "journeys-map-laptop")
    columns = page.locator(".journey-columns")
    overflow = columns.evaluate("el => el.scrollWidth > el.clientWidth")
    assert overflow, "five columns on a laptop scroll sideways inside the map"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("link", name="Checkout and payment", exact=True).click()
    expect(page.get_by_role("heading", name="Recent responses")).to_be_visible()
    expect(page.get_by_text("The card payment failed twice")).to_be_visible()
    screenshot(page, "journeys-touchpoint-laptop")

    page.set_viewport_size(PHONE)
    for url, name in [
        ("/journeys/", "journeys-list-phone"),
        (f"/journeys/{purchase.pk}/", "journeys-map-phone"),
        (f"/journeys/touchpoints/{checkout.pk}/", "journeys-touchpoint-phone"),
    ]:
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
            f"{url} overflows sideways on a phone"
        )
        screenshot(page, name)


def test_a_viewer_reads_the_map_and_the_touchpoint_page_without_editing_controls(
    page, live_server, login, viewer_user, org
):
    for name in TEAMS:
        TeamFactory(organization=org, name=name)
    demo.seed(org=org, quick=True)
    page.set_viewport_size(PHONE)
    login(page, viewer_user.email)

    page.goto(f"{live_server.url}/journeys/")
    page.get_by_role("link", name="Support request").click()
    expect(page.get_by_role("heading", name="Getting in touch")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Add touchpoint"))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Move "))).to_have_count(0)

    page.get_by_role("link", name="Phone hotline", exact=True).click()
    expect(page.get_by_role("heading", name="Phone hotline")).to_be_visible()
    expect(page.get_by_text("Cases are coming")).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
