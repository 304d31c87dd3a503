"""The dashboard draws the weekly responses chart with Chart.js, under our CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.feedback.factories import ResponseFactory

pytestmark = pytest.mark.browser


def test_the_dashboard_draws_the_weekly_chart_and_lists_the_latest_answers(
    page, live_server, login, manager_user, org, screenshot
):
    for score in (10, 9, 7, 2):
        ResponseFactory(organization=org, primary_score=score, comment=f"Scored {score}")
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_viewport_size({"width": 1366, "height": 860})
    login(page, manager_user.email)

    canvas = page.locator("#responses-per-week")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && window.Chart.getChart(document.getElementById('responses-per-week'))"
    )
    drawn = page.evaluate(
        """() => {
          const chart = window.Chart.getChart(document.getElementById('responses-per-week'));
          return Object.fromEntries(chart.data.datasets.map(d => [d.label, d.data.at(-1)]));
        }"""
    )
    assert drawn == {"Unhappy": 1, "Neutral": 1, "Happy": 2}
    expect(page.locator("#latest-answers li")).to_have_count(4)
    assert problems == []
    screenshot(page, "dashboard-with-chart-laptop")
