"""The after-response pipeline's rows: one per (response, step), written in the
transaction that completes (or changes) the response. The steps and their order are in
``feedback/pipeline.py``; running them is ``feedback/services/pipeline.py``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cxplatform.models import Organization, OrgQuerySet


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


# Rows still to be looked at (and failed ones, shown until retried): a small set, so the
# claim, the sweep and the Background work page read a small partial index.
OPEN = [StepStatus.PENDING, StepStatus.RUNNING, StepStatus.FAILED]


class PipelineStepQuerySet(OrgQuerySet):
    def due(self, step: str, now: Any) -> PipelineStepQuerySet:
        """Pending rows of ``step`` that are due and whose prerequisites (the steps it
        waits for, ``feedback/pipeline.py``) are done."""
        from feedback import pipeline

        rows = self.filter(step=step, status=StepStatus.PENDING, run_after__lte=now)
        prerequisites = pipeline.step(step).after
        if prerequisites:
            blocking = PipelineStep.objects.filter(
                organization_id=OuterRef("organization_id"),
                response_id=OuterRef("response_id"),
                step__in=prerequisites,
            ).exclude(status=StepStatus.DONE)
            rows = rows.exclude(Exists(blocking))
        return rows


class PipelineStep(models.Model):
    # No index of its own: the unique constraint starts with the organization.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    response = models.ForeignKey(
        "feedback.Response", on_delete=models.CASCADE, related_name="pipeline_steps"
    )
    step = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    run_after = models.DateTimeField(default=timezone.now, help_text="Due from (backoff).")
    leased_until = models.DateTimeField(
        null=True, blank=True, help_text="While running: the worker's claim expires then."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = PipelineStepQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "response", "step"], name="pipelinestep_once_per_response"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "step", "run_after"],
                condition=Q(status__in=OPEN),
                name="pipelinestep_open",
            ),
            models.Index(
                fields=["organization", "done_at"],
                condition=Q(status=StepStatus.DONE),
                name="pipelinestep_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step} of response {self.response_id}: {self.status}"
