"""Reads of campaigns, their progress and invitations, and segments; scoped to an
organization.

Progress counts, per DESIGN.md: *sent* counts every email that left (sent, opened,
answered, bounced); *delivered* = sent − bounced − failed (a failed email never left, so
it only lowers what "sent" would have been); *response rate* = completed responses /
delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from cxplatform.models import Organization
from feedback.models import Campaign, Invitation, InvitationStatus, Segment
from feedback.services import audience

ACTIVE = ["scheduled", "sending", "paused"]


def campaign_list(*, org: Organization, status: str = "", q: str = "") -> QuerySet[Campaign]:
    """Campaigns with survey, touchpoint and segment, and per-status invitation counts
    (one query, however many campaigns)."""
    campaigns = Campaign.objects.for_org(org).select_related("survey", "touchpoint", "segment")
    if status:
        campaigns = campaigns.filter(status=status)
    if q:
        campaigns = campaigns.filter(Q(name__icontains=q) | Q(survey__name__icontains=q))
    return campaigns.annotate(
        invited=Count("invitations", filter=~Q(invitations__status=InvitationStatus.SUPPRESSED)),
        queued=Count("invitations", filter=Q(invitations__status=InvitationStatus.PENDING)),
        answered=Count("invitations", filter=Q(invitations__status=InvitationStatus.RESPONDED)),
        emailed=Count("invitations", filter=Q(invitations__sent_at__isnull=False)),
    ).order_by("-created_at", "-id")


def campaign_detail(*, org: Organization) -> QuerySet[Campaign]:
    return Campaign.objects.for_org(org).select_related(
        "survey", "touchpoint", "segment", "created_by", "organization"
    )


@dataclass
class Progress:
    total: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    opened: int = 0
    answered: int = 0
    expired: int = 0
    expired_unsent: int = 0
    retrying: int = 0
    responses: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def suppressed_total(self) -> int:
        return sum(self.suppressed.values())

    @property
    def to_send(self) -> int:
        """Invitations meant to go out (everything not suppressed)."""
        return self.total - self.suppressed_total

    @property
    def sent_unanswered(self) -> int:
        """Sent and not (yet) answered: the blue part of the progress bar."""
        return max(0, self.sent - self.answered)

    @property
    def delivered(self) -> int:
        return max(0, self.sent - self.bounced)

    @property
    def done(self) -> int:
        """Emails settled: sent or failed for good."""
        return self.sent + self.failed + self.expired_unsent

    @property
    def percent_done(self) -> int:
        return int(100 * self.done / self.to_send) if self.to_send else 0

    @property
    def response_rate(self) -> float | None:
        return 100 * self.responses / self.delivered if self.delivered else None

    @property
    def open_rate(self) -> float | None:
        return 100 * self.opened / self.delivered if self.delivered else None

    def suppressed_items(self) -> list[tuple[str, int]]:
        order = [*audience.REASONS, audience.CANCELLED]
        known = [(r, self.suppressed[r]) for r in order if self.suppressed.get(r)]
        other = [(r, n) for r, n in sorted(self.suppressed.items()) if r not in order and n]
        return known + other


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition)


def campaign_progress(*, campaign: Campaign) -> Progress:
    """Counts of the campaign's invitations by what happened to them, in one query (plus
    one for the suppression reasons)."""
    s = InvitationStatus
    rows = Invitation.objects.filter(campaign=campaign)
    counts: dict[str, Any] = rows.aggregate(
        total=Count("pk"),
        queued=_count(Q(status=s.PENDING)),
        retrying=_count(Q(status=s.PENDING, attempts__gt=0)),
        sent=_count(Q(sent_at__isnull=False)),
        failed=_count(Q(status=s.FAILED)),
        bounced=_count(Q(status=s.BOUNCED)),
        opened=_count(Q(opened_at__isnull=False) | Q(status=s.RESPONDED)),
        answered=_count(Q(status=s.RESPONDED)),
        expired=_count(Q(status=s.EXPIRED)),
        expired_unsent=_count(Q(status=s.EXPIRED, sent_at__isnull=True)),
        responses=_count(Q(response__completed=True)),
    )
    suppressed = dict(
        rows.filter(status=s.SUPPRESSED)
        .values_list("suppression_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Progress(**counts, suppressed={k or "other": v for k, v in suppressed.items()})


def campaign_invitations(*, campaign: Campaign, status: str = "") -> QuerySet[Invitation]:
    rows = Invitation.objects.filter(campaign=campaign).select_related("contact")
    if status == "retrying":
        rows = rows.filter(status=InvitationStatus.PENDING, attempts__gt=0)
    elif status:
        rows = rows.filter(status=status)
    return rows.order_by("-sent_at", "pk")


def segment_list(*, org: Organization) -> QuerySet[Segment]:
    return Segment.objects.for_org(org).annotate(campaign_count=Count("campaigns")).order_by("name")
