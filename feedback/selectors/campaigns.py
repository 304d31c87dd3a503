"""Reads of campaigns, their progress and invitations, and segments; scoped to an
organization.

Progress counts, per DESIGN.md, defined once here (``_progress_counts``) for the campaign
list, the progress page and the API: *sent* counts every email that left (sent, opened,
answered, bounced); *delivered* = sent − bounced − failed (a failed email never left, so
it only lowers what "sent" would have been); *started* = the respondent saved at least
one answer; *completed* = the respondent finished (what the response rate counts);
*partial* = started − completed; *response rate* = completed / delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from cxplatform.models import Organization
from feedback.models import Campaign, CampaignStatus, Invitation, InvitationStatus, Segment
from feedback.models.responses import counted_q, flagged_q
from feedback.services import audience

ACTIVE = [CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED]


def _progress_counts(relation: str = "") -> dict[str, Count]:
    """The aggregates behind ``Progress``: over the campaign's invitations when ``relation``
    is "invitations" (annotating campaigns), else over an Invitation queryset."""
    prefix = f"{relation}__" if relation else ""

    def q(**lookups: Any) -> Q:
        return Q(**{prefix + key: value for key, value in lookups.items()})

    def n(condition: Q | None = None) -> Count:
        return Count(relation or "pk", filter=condition)

    s = InvitationStatus
    return {
        "total": n(),
        "queued": n(q(status=s.PENDING)),
        "retrying": n(q(status=s.PENDING, attempts__gt=0)),
        "sent": n(q(sent_at__isnull=False)),
        "failed": n(q(status=s.FAILED)),
        "bounced": n(q(status=s.BOUNCED)),
        "opened": n(q(opened_at__isnull=False) | q(status=s.RESPONDED)),
        # An invitation is marked responded as soon as its first answer is saved.
        "started": n(q(status=s.RESPONDED)),
        # Answered and counted (feedback.models.responses.counted_q); the flagged apart.
        "completed": n(q(status=s.RESPONDED) & counted_q(prefix + "response__")),
        "flagged": n(q(status=s.RESPONDED) & flagged_q(prefix + "response__")),
        "expired": n(q(status=s.EXPIRED)),
        "expired_unsent": n(q(status=s.EXPIRED, sent_at__isnull=True)),
        "suppressed_total": n(q(status=s.SUPPRESSED)),
    }


@dataclass
class Progress:
    total: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0
    flagged: int = 0
    expired: int = 0
    expired_unsent: int = 0
    retrying: int = 0
    suppressed_total: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Any) -> Progress:
        """The progress of a campaign annotated by ``campaign_list``."""
        return cls(**{name: getattr(row, name) for name in _progress_counts()})

    @property
    def partial(self) -> int:
        """Started answering and not finished (yet)."""
        return max(0, self.started - self.completed - self.flagged)

    @property
    def to_send(self) -> int:
        """Invitations meant to go out (everything not suppressed)."""
        return self.total - self.suppressed_total

    @property
    def sent_unanswered(self) -> int:
        """Sent and not (yet) started: the blue part of the progress bar."""
        return max(0, self.sent - self.started)

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
        return 100 * self.completed / self.delivered if self.delivered else None

    @property
    def open_rate(self) -> float | None:
        return 100 * self.opened / self.delivered if self.delivered else None

    def share_of_delivered(self, count: int) -> float | None:
        return 100 * count / self.delivered if self.delivered else None

    def funnel(self) -> list[dict[str, Any]]:
        """invited → delivered → opened → started → completed, each with its denominator
        (delivered is a share of invited, the later steps are shares of delivered)."""
        invited = self.to_send
        steps: list[dict[str, Any]] = [
            {"key": "invited", "label": "Invited", "n": invited, "pct": None, "of": ""},
            {
                "key": "delivered",
                "label": "Delivered",
                "n": self.delivered,
                "pct": 100 * self.delivered / invited if invited else None,
                "of": "of invited",
            },
        ]
        for key, label, n in (
            ("opened", "Opened", self.opened),
            ("started", "Started", self.started),
            ("completed", "Completed", self.completed),
        ):
            steps.append(
                {
                    "key": key,
                    "label": label,
                    "n": n,
                    "pct": self.share_of_delivered(n),
                    "of": "of delivered",
                }
            )
        for step in steps:
            step["width"] = round(100 * step["n"] / invited) if invited else 0
        return steps

    def suppressed_items(self) -> list[tuple[str, int]]:
        order = [*audience.REASONS, audience.CANCELLED]
        known = [(r, self.suppressed[r]) for r in order if self.suppressed.get(r)]
        other = [(r, n) for r, n in sorted(self.suppressed.items()) if r not in order and n]
        return known + other


def campaign_list(*, org: Organization, status: str = "", q: str = "") -> QuerySet[Campaign]:
    """Campaigns with survey, touchpoint and segment, and the counts of their progress
    (one query, however many campaigns): ``Progress.of(campaign)`` reads them."""
    campaigns = Campaign.objects.for_org(org).select_related("survey", "touchpoint", "segment")
    if status:
        campaigns = campaigns.filter(status=status)
    if q:
        campaigns = campaigns.filter(Q(name__icontains=q) | Q(survey__name__icontains=q))
    return campaigns.annotate(**_progress_counts("invitations")).order_by("-created_at", "-id")


def campaign_detail(*, org: Organization) -> QuerySet[Campaign]:
    return Campaign.objects.for_org(org).select_related(
        "survey", "touchpoint", "segment", "created_by", "organization"
    )


def campaign_progress(*, campaign: Campaign) -> Progress:
    """Counts of the campaign's invitations by what happened to them, in one query (plus
    one for the suppression reasons)."""
    rows = Invitation.objects.filter(campaign=campaign)
    counts: dict[str, Any] = rows.aggregate(**_progress_counts())
    suppressed = dict(
        rows.filter(status=InvitationStatus.SUPPRESSED)
        .values_list("suppression_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Progress(**counts, suppressed={k or "other": v for k, v in suppressed.items()})


def campaign_invitations(*, campaign: Campaign, status: str = "") -> QuerySet[Invitation]:
    """The campaign's invitations with their contact and response. ``status``: an
    invitation status, or "retrying", "completed", "partial" (as ``Progress`` counts them)."""
    rows = (
        Invitation.objects.filter(campaign=campaign)
        .select_related("contact")
        .prefetch_related("responses")
    )
    if status == "retrying":
        rows = rows.filter(status=InvitationStatus.PENDING, attempts__gt=0)
    elif status == "completed":
        rows = rows.filter(status=InvitationStatus.RESPONDED, response__completed=True)
    elif status == "partial":
        rows = rows.filter(status=InvitationStatus.RESPONDED).exclude(response__completed=True)
    elif status:
        rows = rows.filter(status=status)
    return rows.order_by("-sent_at", "pk")


def segment_list(*, org: Organization) -> QuerySet[Segment]:
    return Segment.objects.for_org(org).annotate(campaign_count=Count("campaigns")).order_by("name")
