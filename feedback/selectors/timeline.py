"""The contact timeline: the whole customer experience of one person, across journeys.

Every invitation (with its steps: queued, sent, opened, responded, or what stopped it),
every response (score, comment, survey, touchpoint and journey), and what happened to the
emails (bounces, complaints, unsubscribes, reminders), merged newest first. A source
added later (cases) is one more function in ``SOURCES``.

Paging is by time: ``before`` is the time of the last entry shown; each source reads at
most ``limit + 1`` rows, so a page costs one query per source whatever the history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Coalesce

from cxplatform.models import Organization
from feedback.models import Answer, Contact, DeliveryEvent, Invitation, Response


@dataclass
class Entry:
    kind: str  # "invitation", "response", "event"
    at: datetime
    obj: Any
    touchpoint: Any = None

    @property
    def stage(self) -> Any:
        return self.touchpoint.stage if self.touchpoint is not None else None

    @property
    def journey(self) -> Any:
        return self.touchpoint.stage.journey if self.touchpoint is not None else None

    @property
    def template(self) -> str:
        return f"feedback/contact_timeline_{self.kind}.html"


@dataclass
class Page:
    entries: list[Entry]
    has_more: bool
    next_before: datetime | None = None


@dataclass
class Summary:
    invitations: int = 0
    responses: int = 0
    last_response: Response | None = None
    journeys: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)


_TOUCHPOINT = "touchpoint__stage__journey"


def _invitations(org: Organization, contact: Contact, before: Any, limit: int) -> list[Entry]:
    rows = (
        Invitation.objects.for_org(org)
        .filter(contact=contact)
        .select_related("survey", "campaign", "employee", _TOUCHPOINT)
        .order_by("-created_at", "-id")
    )
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    return [Entry("invitation", inv.created_at, inv, inv.touchpoint) for inv in rows[: limit + 1]]


def _responses(org: Organization, contact: Contact, before: Any, limit: int) -> list[Entry]:
    rows = (
        Response.objects.for_org(org)
        .filter(contact=contact)
        .annotate(at=Coalesce("submitted_at", "started_at"))
        .select_related("survey", "campaign", "employee", _TOUCHPOINT)
        .prefetch_related(
            Prefetch("answers", queryset=Answer.objects.order_by("question__position", "id"))
        )
        .order_by("-at", "-id")
    )
    if before is not None:
        rows = rows.filter(at__lt=before)
    return [Entry("response", r.at, r, r.touchpoint) for r in rows[: limit + 1]]


def _events(org: Organization, contact: Contact, before: Any, limit: int) -> list[Entry]:
    rows = (
        DeliveryEvent.objects.for_org(org)
        .filter(Q(contact=contact) | Q(invitation__contact=contact))
        .exclude(kind=DeliveryEvent.Kind.OPEN)  # shown as a step of its invitation
        .select_related("invitation__survey")
        .order_by("-created_at", "-id")
    )
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    return [Entry("event", e.created_at, e) for e in rows[: limit + 1]]


SOURCES: list[Callable[[Organization, Contact, Any, int], list[Entry]]] = [
    _invitations,
    _responses,
    _events,
]


def contact_timeline(
    *, org: Organization, contact: Contact, before: datetime | None = None, limit: int = 30
) -> Page:
    """One page of the contact's timeline, newest first."""
    if contact.organization_id != org.pk:
        return Page([], False)
    merged: list[Entry] = []
    for source in SOURCES:
        merged.extend(source(org, contact, before, limit))
    merged.sort(key=lambda e: (e.at, e.kind != "invitation"), reverse=True)
    entries = merged[:limit]
    has_more = len(merged) > limit
    return Page(entries, has_more, entries[-1].at if has_more and entries else None)


def contact_summary(*, org: Organization, contact: Contact) -> Summary:
    """Counts for the head of the timeline: invitations by status, completed responses,
    the latest answer, and every journey the person has been asked about."""
    invitations = Invitation.objects.for_org(org).filter(contact=contact)
    by_status = dict(
        invitations.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    completed = Response.objects.for_org(org).filter(contact=contact).counted()
    last = completed.select_related("survey").order_by("-submitted_at", "-id").first()
    journeys: set[str] = set()
    for rows in (Response.objects.for_org(org).filter(contact=contact), invitations):
        journeys.update(
            rows.filter(touchpoint__isnull=False)
            .order_by()
            .values_list("touchpoint__stage__journey__name", flat=True)
            .distinct()
        )
    return Summary(
        invitations=sum(by_status.values()),
        responses=completed.count(),
        last_response=last,
        journeys=sorted(journeys),
        by_status=by_status,
    )
