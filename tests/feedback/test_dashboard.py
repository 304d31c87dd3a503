"""The dashboard's feedback panels: responses per week and the latest answers."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.dashboard import CHART_WEEKS
from tests.feedback.factories import ResponseFactory

pytestmark = pytest.mark.django_db


def _chart(page) -> dict:
    html = page.content.decode()
    start = html.index('<script id="responses-per-week-data" type="application/json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_the_chart_counts_each_week_by_mood_and_leaves_out_automated_answers(
    manager, org, other_org
):
    now = timezone.now()
    ResponseFactory(organization=org, primary_score=10, submitted_at=now)
    ResponseFactory(organization=org, primary_score=2, submitted_at=now)
    ResponseFactory(organization=org, primary_score=8, submitted_at=now - timedelta(weeks=1))
    ResponseFactory(organization=org, primary_score=10, submitted_at=now, flagged_automated=True)
    ResponseFactory(organization=org, primary_score=10, completed=False, submitted_at=None)
    ResponseFactory(organization=org, primary_score=0, submitted_at=now - timedelta(weeks=20))
    ResponseFactory(organization=other_org, primary_score=10, submitted_at=now)

    page = manager.get(reverse("dashboard"))
    chart = _chart(page)

    assert len(chart["labels"]) == CHART_WEEKS
    this_week = {mood: chart[mood][-1] for mood in ("happy", "neutral", "unhappy")}
    assert this_week == {"happy": 1, "neutral": 0, "unhappy": 1}
    assert chart["neutral"][-2] == 1
    assert sum(chart["happy"] + chart["neutral"] + chart["unhappy"]) == 3
    assert "3 in the last 12 weeks" in page.content.decode()


def test_weeks_start_on_monday_in_the_organizations_time_zone(manager, org):
    org.time_zone = "Pacific/Auckland"
    org.save()
    ResponseFactory(organization=org)
    page = manager.get(reverse("dashboard"))
    labels = [date.fromisoformat(day) for day in _chart(page)["labels"]]
    assert all(day.weekday() == 0 for day in labels)
    today_there = timezone.now().astimezone(ZoneInfo("Pacific/Auckland"))
    assert labels[-1] == today_there.date() - timedelta(days=today_there.weekday())


def test_the_latest_answers_show_newest_first_with_anonymous_ones(manager, org):
    older = ResponseFactory(organization=org, primary_score=3, comment="The parcel was late")
    older.submitted_at = timezone.now() - timedelta(hours=2)
    older.save()
    ResponseFactory(organization=org, primary_score=9, contact=None, comment="Lovely staff")

    html = manager.get(reverse("dashboard")).content.decode()
    latest = html[html.index('id="latest-answers"') :]
    assert latest.index("Anonymous") < latest.index(older.contact.display_name)
    assert "The parcel was late" in latest
    assert reverse("feedback:response_detail", args=[older.pk]) in latest


def test_a_new_organization_sees_how_to_get_started_instead_of_an_empty_chart(manager):
    html = manager.get(reverse("dashboard")).content.decode()
    assert "Getting started" in html
    assert "No answers in the last weeks" in html
    assert "responses-per-week-data" not in html
