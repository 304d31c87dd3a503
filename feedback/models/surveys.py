"""Surveys and their questions.

A question that has answers is never deleted or changed in a way that would corrupt
those answers: the services archive it (``archived_at``) and create a new one, and each
Answer keeps a snapshot of the question's text and type.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cxplatform.models import Organization, OrgQuerySet
from feedback.scoring import QuestionType


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS"
    CSAT = "csat", "CSAT"
    CES = "ces", "CES"
    ENPS = "enps", "eNPS"
    CUSTOM = "custom", "Custom"


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Survey(models.Model):
    Status = SurveyStatus  # for templates: ``survey.Status.ACTIVE``

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200, help_text="Internal name.")
    kind = models.CharField(max_length=10, choices=SurveyKind.choices, default=SurveyKind.NPS)
    status = models.CharField(
        max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="surveys",
    )
    title = models.CharField(max_length=200, blank=True, help_text="Shown to respondents.")
    intro = models.TextField(blank=True)
    thank_you = models.TextField(blank=True, default="Thank you! Your feedback helps us improve.")
    default_locale = models.CharField(max_length=10, default="en")
    translations = models.JSONField(
        default=dict, blank=True, help_text="{locale: {title, intro, thank_you}}"
    )
    # {locale: {key: the source text as it read when that translation was written}}: a
    # translation whose source has changed since "needs translation" (services.translations).
    translation_sources = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name with its kind, unless the name already says it ("Employee pulse (eNPS)")."""
        kind = self.get_kind_display()
        return self.name if kind.lower() in self.name.lower() else f"{self.name} ({kind})"


class Question(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    type = models.CharField(max_length=20, choices=QuestionType.choices)
    text = models.CharField(max_length=500)
    help_text = models.CharField(max_length=500, blank=True)
    required = models.BooleanField(default=False)
    is_primary = models.BooleanField(
        default=False, help_text="Its answer is the survey's metric (one per survey)."
    )
    position = models.PositiveIntegerField(default=0)
    choices = models.JSONField(default=list, blank=True, help_text="Options of choice questions.")
    low_label = models.CharField(max_length=100, blank=True)
    high_label = models.CharField(max_length=100, blank=True)
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text="{locale: {text, help_text, choices, low_label, high_label}}",
    )
    translation_sources = models.JSONField(default=dict, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OrgQuerySet.as_manager()

    class Meta:
        ordering = ["survey_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "survey"],
                condition=Q(is_primary=True, archived_at__isnull=True),
                name="one_primary_question_per_survey",
            )
        ]

    def __str__(self) -> str:
        return self.text
