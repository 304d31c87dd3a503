"""The shared core: organizations (tenants), memberships and roles, teams, employees,
API keys, the audit log and the demo mailbox.

Every business row of every app carries an ``organization`` and is read through
``OrgQuerySet.for_org`` (or a selector built on it): that is the one tenancy rule.
"""

from __future__ import annotations

import hashlib
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz]
TIME_ZONE_CHOICES.insert(0, ("UTC", "UTC"))


class OrgQuerySet(models.QuerySet):
    """Base queryset for every row that belongs to an organization."""

    def for_org(self, org: Organization) -> OrgQuerySet:
        return self.filter(organization=org)


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    default_locale = models.CharField(
        "default language",
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
        help_text="For survey emails and pages when a contact has no language of their own.",
    )
    sender_name = models.CharField(
        max_length=200, blank=True, help_text="Shown as the sender of survey emails."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The organization's time zone (UTC if the stored name is unknown here)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


# What each role may do. A role includes the abilities of the roles after it in this order.
ROLE_RANK = {Role.ADMIN: 4, Role.MANAGER: 3, Role.AGENT: 2, Role.VIEWER: 1}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="team_name_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class EmployeeQuerySet(OrgQuerySet):
    def active(self) -> EmployeeQuerySet:
        return self.filter(active=True)


class Employee(models.Model):
    """A person whose work customers experience: responses are attributed to employees,
    employees answer eNPS pulses, and scorecards reward them. Part of the core (beside
    Team) because every app refers to them; scorecards builds on them."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    external_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="The id of this person in your HR or CRM system (unique when given).",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="employees"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="employee_external_id_unique_per_org",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    def can(self, minimum_role: str) -> bool:
        return role_at_least(self.role, minimum_role)


class ApiKeyQuerySet(OrgQuerySet):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A secret for integrations. Only its SHA-256 is stored; the key is shown once.

    The key is 32 random bytes, so a fast hash is enough (no need for a slow password
    hash): nobody can brute-force 256 bits, and lookups by hash stay an index probe.
    A request brings the key but not its organization: ``ApiKeyDirectory`` says which
    organization the hash belongs to, then the key is read within it.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=120)
    role = models.CharField(
        max_length=20,
        choices=[
            (Role.ADMIN, "Full access (also teams and settings)"),
            (Role.MANAGER, "Read and write"),
            (Role.VIEWER, "Read only"),
        ],
        default=Role.MANAGER,
    )
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    hashed_key = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "hashed_key"], name="api_key_hash_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKeyDirectory(models.Model):
    """Which organization an API key's hash belongs to: the one lookup that arrives
    without an organization. Global and small (one row per key ever made), so a Citus
    cluster keeps it as a reference table on every node; the key itself is then read
    within its organization (``api_key_authenticate``)."""

    hashed_key = models.CharField(max_length=64, unique=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name_plural = "API key directory"

    def __str__(self) -> str:
        return f"{self.hashed_key[:8]}… → {self.organization_id}"


class AuditEvent(models.Model):
    """Who changed what: one row per state change made by a person or an API key."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80, help_text="e.g. journey.created")
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"

    @property
    def change_lines(self) -> list[tuple[str, str]]:
        """The changes as (label, text): a field's ``[old, new]`` reads "old → new"; a
        figure (what a launch queued, what a campaign sent) reads as itself."""
        lines = []
        for field, value in (self.changes or {}).items():
            if isinstance(value, list) and len(value) == 2:
                old, new = ("—" if v in (None, "") else v for v in value)
                text = f"{old} → {new}"
            elif isinstance(value, dict):
                text = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
            else:
                text = str(value)
            lines.append((field.replace("_", " "), text))
        return lines

    @property
    def actor_label(self) -> str:
        if self.actor_user_id:
            return self.actor_user.get_full_name() or self.actor_user.get_username()
        if self.actor_api_key_id:
            return f"API key {self.actor_api_key.name}"
        return "System"


class MailboxMessage(models.Model):
    """An email delivered to the demo mailbox instead of an SMTP server.

    Used when EMAIL_URL is not set, so the demo user can open a sent survey email and
    follow its links. Not scoped to an organization: it stands for the outside world.
    """

    sender = models.CharField(max_length=300)
    recipients = models.TextField()
    subject = models.CharField(max_length=500)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipients"], name="mailbox_recipients")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipients}"


class WorkerHeartbeat(models.Model):
    """The last time each background worker proved it can run a task and write here.

    Beat enqueues ``cxplatform.tasks.heartbeat`` every minute; the settings page shows
    the age of the newest row, so a stopped worker or broker is noticed.
    """

    worker = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()
    tasks_seen = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.worker} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


__all__ = [
    "ApiKey",
    "ApiKeyDirectory",
    "AuditEvent",
    "MailboxMessage",
    "Membership",
    "OrgQuerySet",
    "Organization",
    "Role",
    "Team",
    "WorkerHeartbeat",
]
