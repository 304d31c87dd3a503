"""A staff member signs in and walks the navigation in a real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NAV = [
    ("Journeys", "/journeys/"),
    ("Surveys", "/surveys/"),
    ("Campaigns", "/campaigns/"),
    ("Contacts", "/contacts/"),
    ("Responses", "/responses/"),
    ("Cases", "/cases/"),
    ("Scorecards", "/scorecards/"),
    ("Settings", "/settings/"),
    ("Dashboard", "/"),
]


def test_a_manager_signs_in_and_walks_every_area_of_the_navigation(
    page, live_server, login, manager_user, screenshot
):
    page.set_viewport_size({"width": 1366, "height": 860})
    login(page, manager_user.email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
    screenshot(page, "dashboard-laptop")

    nav = page.locator("#sidebar")
    for label, path in NAV:
        nav.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(f"{live_server.url}{path}")
        link = nav.get_by_role("link", name=label, exact=True)
        expect(link).to_have_class(re.compile(r"\bactive\b"))
        expect(page.locator("h1")).not_to_be_empty()


def test_on_a_phone_the_navigation_opens_from_the_menu_button(
    page, live_server, login, viewer_user, screenshot
):
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, viewer_user.email)
    nav = page.locator("#sidebar")
    expect(nav.get_by_role("link", name="Journeys", exact=True)).to_be_hidden()
    page.get_by_role("button", name="Open navigation").click()
    expect(nav.get_by_role("link", name="Journeys", exact=True)).to_be_visible()
    screenshot(page, "navigation-phone")
    nav.get_by_role("link", name="Journeys", exact=True).click()
    page.wait_for_url(f"{live_server.url}/journeys/")


def test_a_wrong_password_shows_the_form_again_with_a_message(page, live_server, viewer_user):
    page.goto(f"{live_server.url}/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email").fill(viewer_user.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn’t match")
