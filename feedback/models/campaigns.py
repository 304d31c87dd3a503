"""Campaigns (who is asked what, when) and invitations (the outbox: one row per
contact asked, the source of truth for delivery; the broker only says "look now")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from cxplatform.models import Organization, OrgQuerySet

DUPLICATE_SEGMENT_NAME = "A segment with this name already exists."


class Segment(models.Model):
    """A saved audience: contacts whose fields and attributes match ``filter``."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    filter = models.JSONField(
        default=dict,
        blank=True,
        help_text='e.g. {"attributes": {"plan": "pro"}, "locale": "de", "email__endswith": "@x.com"}',
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            # Campaign forms and the audience picker offer segments by name.
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="segment_name_unique_per_org",
                violation_error_message=DUPLICATE_SEGMENT_NAME,
            )
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class AudienceType(models.TextChoices):
    ALL = "all", "All reachable contacts"
    FILTER = "filter", "Contacts matching a filter"
    SEGMENT = "segment", "A saved segment"
    LIST = "list", "An uploaded list"


class Campaign(models.Model):
    Status = CampaignStatus  # for templates: ``campaign.Status.SENDING``

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    survey = models.ForeignKey(
        "feedback.Survey", on_delete=models.PROTECT, related_name="campaigns"
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    status = models.CharField(
        max_length=12, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    audience_type = models.CharField(
        max_length=10, choices=AudienceType.choices, default=AudienceType.ALL
    )
    audience_filter = models.JSONField(default=dict, blank=True)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    listed_contacts = models.ManyToManyField(
        "feedback.Contact",
        blank=True,
        related_name="listed_in_campaigns",
        through="feedback.CampaignContact",
        through_fields=("campaign", "contact"),
    )
    subject = models.CharField(max_length=200, default="How did we do, {{ contact.first_name }}?")
    body = models.TextField(
        default="Hi {{ contact.first_name }},\n\nThank you for choosing {{ company }}. "
        "We would love to hear how {{ touchpoint }} went for you."
    )
    send_at = models.DateTimeField(null=True, blank=True, help_text="Empty: send at launch.")
    reminder_after_days = models.PositiveSmallIntegerField(default=3)
    max_reminders = models.PositiveSmallIntegerField(default=1)
    fatigue_days = models.PositiveSmallIntegerField(
        default=30, help_text="Skip contacts surveyed in the last F days (any campaign)."
    )
    link_expiry_days = models.PositiveSmallIntegerField(default=30)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "send_at"])]

    def __str__(self) -> str:
        return self.name


class CampaignContact(models.Model):
    """A contact of a campaign's uploaded list (the ``listed_contacts`` link), in the
    campaign's organization like every tenant row."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("feedback.Contact", on_delete=models.CASCADE, related_name="+")

    objects = OrgQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "contact"], name="one_listing_per_contact"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} ∋ {self.contact_id}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    RESPONDED = "responded", "Responded"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"
    SUPPRESSED = "suppressed", "Suppressed"
    EXPIRED = "expired", "Expired"


class InvitationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    LINK = "link", "Link (delivered by the integration)"


class InvitationQuerySet(OrgQuerySet):
    """The invitation rules that are read in several places, written once."""

    def expired(self, now: datetime) -> InvitationQuerySet:
        """Links past their expiry (whatever their status says yet): see ``link_expired``."""
        return self.filter(expires_at__lte=now)

    def unexpired(self, now: datetime) -> InvitationQuerySet:
        """Links still open: no expiry, or one still ahead."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def unclaimed(self, now: datetime) -> InvitationQuerySet:
        """Not held by a worker (never claimed, or its lease ran out) and not waiting for
        a retry's backoff."""
        return self.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lte=now),
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        )

    def claimable(self, now: datetime) -> InvitationQuerySet:
        """Pending email invitations a delivery worker may claim now: unclaimed, due, not
        expired, and of no campaign or a campaign that is sending."""
        return (
            self.filter(status=InvitationStatus.PENDING, channel=InvitationChannel.EMAIL)
            .filter(Q(campaign__isnull=True) | Q(campaign__status=CampaignStatus.SENDING))
            .unclaimed(now)
            .unexpired(now)
        )


class Invitation(models.Model):
    """One contact asked one survey. Delivery claims rows with a lease (``claimed_until``):
    a worker that dies leaves its claim to expire, and the sweep hands the row on."""

    Status = InvitationStatus  # for templates: ``inv.Status.SENT``

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "feedback.Contact", on_delete=models.CASCADE, related_name="invitations"
    )
    survey = models.ForeignKey(
        "feedback.Survey", on_delete=models.PROTECT, related_name="invitations"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invitations",
    )
    employee = models.ForeignKey(
        "cxplatform.Employee",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    token = models.CharField(max_length=64)
    external_ref = models.CharField(max_length=200, blank=True)
    channel = models.CharField(
        max_length=10, choices=InvitationChannel.choices, default=InvitationChannel.EMAIL
    )
    status = models.CharField(
        max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    suppression_reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "contact"],
                condition=Q(campaign__isnull=False),
                name="one_invitation_per_campaign_contact",
            ),
            # The respondent's link: the token carries its organization (see
            # ``invitations.token_organization_id``), so the lookup stays in one.
            models.UniqueConstraint(
                fields=["organization", "token"], name="invitation_token_unique_per_org"
            ),
            models.UniqueConstraint(
                fields=["organization", "external_ref"],
                condition=~Q(external_ref=""),
                name="invitation_external_ref_unique_per_org",
            ),
        ]
        indexes = [
            # Links made before tokens named their organization (``feedback.tokens``):
            # only those rows, so their lookup stays an index probe until they expire.
            models.Index(
                fields=["token"],
                condition=~Q(token__contains="."),  # noqa: S106 - the token format, no secret
                name="invitation_legacy_token",
            ),
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["organization", "campaign", "status"]),
            models.Index(fields=["status", "claimed_until"]),
            models.Index(fields=["organization", "contact", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact}"

    def link_expired(self, now: datetime) -> bool:
        """The expiry rule of ``InvitationQuerySet.expired`` for a row already loaded:
        marked expired, or past ``expires_at``."""
        return self.status == InvitationStatus.EXPIRED or (
            self.expires_at is not None and self.expires_at <= now
        )

    @property
    def response(self) -> Any:
        """Its response, or None (at most one: ``one_response_per_invitation``); from the
        ``prefetch_related("responses")`` cache when the query made one."""
        return next(iter(self.responses.all()), None)


class DeliveryEvent(models.Model):
    """What happened to an email after it left: bounce, complaint, open, unsubscribe."""

    class Kind(models.TextChoices):
        BOUNCE = "bounce", "Bounce"
        COMPLAINT = "complaint", "Complaint"
        OPEN = "open", "Open"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe"
        REMINDER = "reminder", "Reminder sent"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    contact = models.ForeignKey(
        "feedback.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.invitation_id or self.contact_id}"
