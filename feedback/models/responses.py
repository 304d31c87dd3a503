"""Responses and their answers. At most one response per invitation (a constraint)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxplatform.models import Organization, OrgQuerySet
from feedback.scoring import Category, QuestionType


class ResponseChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEB = "web", "Web link"
    API = "api", "API"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    SMS = "sms", "SMS"
    IN_PERSON = "in_person", "In person"
    APP = "app", "App"


def counted_q(prefix: str = "") -> Q:
    """The one definition of an answer that counts in a figure (every count, chart, rate
    and metric): completed and not flagged as automated. ``prefix`` reaches it through a
    relation (``"responses__"``, ``"response__"``)."""
    return Q(**{f"{prefix}completed": True, f"{prefix}flagged_automated": False})


def flagged_q(prefix: str = "") -> Q:
    """Completed answers flagged as automated: never in a figure, shown apart as "flagged"."""
    return Q(**{f"{prefix}completed": True, f"{prefix}flagged_automated": True})


class ResponseQuerySet(OrgQuerySet):
    def counted(self) -> ResponseQuerySet:
        """Responses that count in the metrics: see ``counted_q``."""
        return self.filter(counted_q())

    def flagged(self) -> ResponseQuerySet:
        """Completed responses flagged as automated: see ``flagged_q``."""
        return self.filter(flagged_q())


class Response(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # At most one response per invitation: a constraint within the organization (a
    # OneToOneField's unique index would be on invitation_id alone). ``response__…``
    # lookups and ``Invitation.response`` read it as the one it is.
    invitation = models.ForeignKey(
        "feedback.Invitation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        related_query_name="response",
    )
    survey = models.ForeignKey(
        "feedback.Survey", on_delete=models.PROTECT, related_name="responses"
    )
    contact = models.ForeignKey(
        "feedback.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
    )
    campaign = models.ForeignKey(
        "feedback.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
    )
    employee = models.ForeignKey(
        "cxplatform.Employee",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
    )
    channel = models.CharField(max_length=12, choices=ResponseChannel.choices)
    external_ref = models.CharField(max_length=200, blank=True)
    primary_type = models.CharField(max_length=20, choices=QuestionType.choices, blank=True)
    primary_score = models.SmallIntegerField(null=True, blank=True)
    category = models.CharField(max_length=15, choices=Category.choices, blank=True)
    comment = models.TextField(blank=True)
    sentiment = models.FloatField(
        null=True, blank=True, help_text="-1 … 1, from feedback.sentiment (pipeline step)"
    )
    sentiment_label = models.CharField(max_length=10, blank=True)
    locale = models.CharField(max_length=10, blank=True)
    completed = models.BooleanField(default=False)
    flagged_automated = models.BooleanField(
        default=False, help_text="Looks like a mail scanner or bot: kept out of the metrics."
    )
    flag_reason = models.CharField(max_length=200, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "invitation"],
                condition=Q(invitation__isnull=False),
                name="one_response_per_invitation",
            ),
            models.UniqueConstraint(
                fields=["organization", "external_ref"],
                condition=~Q(external_ref=""),
                name="response_external_ref_unique_per_org",
            ),
            models.CheckConstraint(
                condition=Q(completed=False) | Q(submitted_at__isnull=False),
                name="completed_response_has_submitted_at",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-submitted_at"]),
            models.Index(fields=["organization", "survey", "-submitted_at"]),
            models.Index(fields=["organization", "touchpoint", "-submitted_at"]),
            models.Index(fields=["organization", "contact", "-submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.survey} · {self.primary_score if self.primary_score is not None else '—'}"


class Answer(models.Model):
    """One question's answer. Keeps a snapshot of the question as it was asked."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(
        "feedback.Question", on_delete=models.PROTECT, related_name="answers"
    )
    question_text = models.CharField(max_length=500)
    question_type = models.CharField(max_length=20, choices=QuestionType.choices)
    value_number = models.SmallIntegerField(null=True, blank=True)
    value_text = models.TextField(blank=True)
    value_choices = models.JSONField(default=list, blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["response_id", "question__position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "response", "question"], name="one_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_text}: {self.display_value}"

    @property
    def display_value(self) -> str:
        if self.value_number is not None:
            return str(self.value_number)
        if self.value_choices:
            return ", ".join(str(c) for c in self.value_choices)
        return self.value_text
