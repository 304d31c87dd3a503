"""The feedback cards and panels of the dashboard (read by cxplatform.views).

Counts only: scores and their intervals come from the metric rollups of a later milestone.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone

from cxplatform.models import Organization
from feedback import scoring
from feedback.models import Campaign, CampaignStatus, Contact, Response


def cards(*, org: Organization) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(days=30)
    recent = Response.objects.for_org(org).filter(submitted_at__gte=since)
    responses = recent.counted()
    contacts = Contact.objects.for_org(org).aggregate(
        total=Count("id"), unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False))
    )
    campaigns = Campaign.objects.for_org(org).aggregate(
        total=Count("id"),
        sending=Count("id", filter=Q(status=CampaignStatus.SENDING)),
        scheduled=Count("id", filter=Q(status=CampaignStatus.SCHEDULED)),
    )
    answered = responses.count()
    unhappy = responses.filter(category__in=scoring.UNHAPPY).count()
    flagged = recent.flagged().count()
    return [
        {
            "label": "Responses",
            "icon": "chat-square-quote",
            "value": answered,
            "hint": f"in the last 30 days · {intcomma(unhappy)} unhappy"
            + (f" · {intcomma(flagged)} flagged as automated, not counted" if flagged else ""),
            "url": reverse("feedback:response_list"),
        },
        {
            "label": "Contacts",
            "icon": "people",
            "value": contacts["total"],
            "hint": f"{intcomma(contacts['unsubscribed'])} unsubscribed",
            "url": reverse("feedback:contact_list"),
        },
        {
            "label": "Campaigns",
            "icon": "send",
            # All of them, and the active ones: sending now or scheduled to.
            "value": campaigns["total"],
            "hint": (
                f"{intcomma(campaigns['sending'] + campaigns['scheduled'])} active "
                f"({intcomma(campaigns['sending'])} sending, "
                f"{intcomma(campaigns['scheduled'])} scheduled)"
            ),
            "url": reverse("feedback:campaign_list"),
        },
    ]


# How the weekly chart groups the categories of every scale.
HAPPY = frozenset(
    {
        scoring.Category.PROMOTER,
        scoring.Category.SATISFIED,
        scoring.Category.LOW_EFFORT,
        scoring.Category.POSITIVE,
    }
)
CHART_WEEKS = 12


def weekly_responses(*, org: Organization, weeks: int = CHART_WEEKS) -> dict[str, list]:
    """Counted responses per week (Monday, in the current time zone) by mood, oldest first.

    Every week of the window is present, empty weeks with zeros, so the chart has no gaps.
    """
    today = timezone.localdate()
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    start = timezone.make_aware(dt.datetime.combine(first_monday, dt.time.min))
    rows = (
        Response.objects.for_org(org)
        .counted()
        .filter(submitted_at__gte=start)
        .annotate(week=TruncWeek("submitted_at"))
        .values("week", "category")
        .annotate(n=Count("id"))
    )
    mondays = [first_monday + timedelta(weeks=i) for i in range(weeks)]
    index = {monday: i for i, monday in enumerate(mondays)}
    series = {"happy": [0] * weeks, "neutral": [0] * weeks, "unhappy": [0] * weeks}
    for row in rows:
        week = row["week"]
        i = index.get(week.date() if hasattr(week, "date") else week)
        if i is None:
            continue
        if row["category"] in scoring.UNHAPPY:
            mood = "unhappy"
        elif row["category"] in HAPPY:
            mood = "happy"
        else:
            mood = "neutral"
        series[mood][i] += row["n"]
    return {"labels": [monday.isoformat() for monday in mondays], **series}


def panels(*, org: Organization) -> list[dict[str, Any]]:
    volume = weekly_responses(org=org)
    total = sum(volume["happy"]) + sum(volume["neutral"]) + sum(volume["unhappy"])
    latest = (
        Response.objects.for_org(org)
        .counted()
        .select_related("contact", "survey", "touchpoint")
        .order_by("-submitted_at", "-id")[:6]
    )
    return [
        {
            "template": "feedback/dashboard_volume.html",
            "width": "col-lg-8",
            "volume": volume,
            "total": total,
            "weeks": CHART_WEEKS,
        },
        {
            "template": "feedback/dashboard_latest.html",
            "width": "col-lg-4",
            "responses": list(latest),
        },
    ]
