"""The feedback cards of the dashboard (read by cxplatform.views._dashboard_sections).

Counts only: scores and their intervals come from the metric rollups of a later milestone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from cxplatform.models import Organization
from feedback import scoring
from feedback.models import Campaign, CampaignStatus, Contact, Response


def cards(*, org: Organization) -> list[dict[str, Any]]:
    since = timezone.now() - timedelta(days=30)
    responses = Response.objects.for_org(org).filter(completed=True, submitted_at__gte=since)
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
    return [
        {
            "label": "Responses",
            "icon": "chat-square-quote",
            "value": answered,
            "hint": f"in the last 30 days · {intcomma(unhappy)} unhappy",
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
