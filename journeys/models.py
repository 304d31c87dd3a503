"""Customer journeys: the five phases (Attraction, Entry, Engagement, Exit, Extension),
their stages and the touchpoints where customers meet the company.

Positions are dense (0, 1, 2 …) within their parent; services keep them so after every
add, move and removal. A touchpoint with feedback is archived, never deleted.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from cxplatform.models import Organization, OrgQuerySet, Team


class Phase(models.TextChoices):
    ATTRACTION = "attraction", "Attraction"
    ENTRY = "entry", "Entry"
    ENGAGEMENT = "engagement", "Engagement"
    EXIT = "exit", "Exit"
    EXTENSION = "extension", "Extension"


PHASE_HINTS = {
    Phase.ATTRACTION: "The customer notices a need and first hears of you.",
    Phase.ENTRY: "The first contact: a visit, a call, a sign-up.",
    Phase.ENGAGEMENT: "Examining, choosing and buying.",
    Phase.EXIT: "Leaving with the need fulfilled: delivery, invoice, goodbye.",
    Phase.EXTENSION: "Every later contact: support, questions, exchanges, renewal.",
}


class Channel(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    STORE = "store", "Store"
    SOCIAL = "social", "Social media"
    APP = "app", "App"
    SMS = "sms", "SMS"
    IN_PERSON = "in_person", "In person"


class Component(models.TextChoices):
    SERVICE = "service", "Service (people)"
    TECHNOLOGY = "technology", "Technology (product)"
    DESIGN = "design", "Design (brand)"


class JourneyQuerySet(OrgQuerySet):
    def active(self) -> JourneyQuerySet:
        return self.filter(archived_at__isnull=True)


class Journey(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    persona = models.CharField(
        max_length=200, blank=True, help_text="Who travels this journey, e.g. “First-time buyer”."
    )
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JourneyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"])]
        constraints = [
            # Names identify journeys in lists, filters and the demo seeding; two journeys
            # called "Online purchase" and "online purchase" would only confuse.
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                name="journey_name_unique_per_org",
                violation_error_message="A journey with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Stage(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=200)
    phase = models.CharField(max_length=20, choices=Phase.choices)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["journey_id", "position", "id"]
        indexes = [models.Index(fields=["organization", "journey", "position"])]

    def __str__(self) -> str:
        return f"{self.journey.name} › {self.name}"


class TouchpointQuerySet(OrgQuerySet):
    def active(self) -> TouchpointQuerySet:
        return self.filter(archived_at__isnull=True)


class Touchpoint(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="touchpoints")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    component = models.CharField(
        max_length=20, choices=Component.choices, default=Component.SERVICE
    )
    owner_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    moment_of_truth = models.BooleanField(
        default=False, help_text="A moment that makes or breaks the relationship."
    )
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TouchpointQuerySet.as_manager()

    class Meta:
        ordering = ["stage_id", "position", "id"]
        indexes = [models.Index(fields=["organization", "stage", "position"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(position__gte=0), name="touchpoint_position_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
