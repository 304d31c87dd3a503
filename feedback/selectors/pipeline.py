"""Reads of the after-response pipeline for the admins' Background work page and the API:
counts by step and status, and the failures. Open rows (pending, running, failed) come
from a small partial index; done rows only over the last 24 hours (they are pruned)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from cxplatform.models import Organization
from feedback import pipeline
from feedback.models import PipelineStep, StepStatus
from feedback.models.pipeline import OPEN


@dataclass
class StepFigures:
    step: str
    purpose: str
    pending: int = 0
    waiting: int = 0  # pending, but what it waits for is not done
    running: int = 0
    stuck: int = 0  # running past its lease
    failed: int = 0
    done_24h: int = 0
    oldest_pending: datetime | None = None


def figures(*, org: Organization, now: datetime | None = None) -> list[StepFigures]:
    """Per active step: rows by status (open rows from a small partial index; done ones
    over the last 24 hours)."""
    now = now or timezone.now()
    rows = PipelineStep.objects.for_org(org)
    by_step = {s.name: StepFigures(step=s.name, purpose=s.purpose) for s in pipeline.active_steps()}
    for row in (
        rows.filter(status__in=OPEN)
        .values("step", "status")
        .annotate(n=Count("id"), stuck=Count("id", filter=Q(leased_until__lt=now)))
    ):
        if (figure := by_step.get(row["step"])) is not None:
            setattr(figure, row["status"], row["n"])
            if row["status"] == StepStatus.RUNNING:
                figure.stuck = row["stuck"]
    for name, figure in by_step.items():
        if figure.pending:
            due = rows.due(name, now)
            figure.waiting = figure.pending - due.count()
            oldest = rows.filter(step=name, status=StepStatus.PENDING).order_by("run_after")
            figure.oldest_pending = oldest.values_list("run_after", flat=True).first()
    for row in (
        rows.filter(status=StepStatus.DONE, done_at__gte=now - timedelta(hours=24))
        .values("step")
        .annotate(n=Count("id"))
    ):
        if (figure := by_step.get(row["step"])) is not None:
            figure.done_24h = row["n"]
    return list(by_step.values())


def open_rows(*, org: Organization) -> QuerySet[PipelineStep]:
    """The rows not done yet (pending, running, failed), latest change first."""
    return (
        PipelineStep.objects.for_org(org)
        .filter(status__in=OPEN)
        .select_related("response__survey")
        .order_by("-updated_at", "-id")
    )


def failures(*, org: Organization, limit: int = 20) -> list[PipelineStep]:
    """The latest failed rows, with their response and survey."""
    return list(open_rows(org=org).filter(status=StepStatus.FAILED)[:limit])


def background_sections(*, org: Organization) -> list[dict[str, Any]]:
    """Feedback's part of the core's Background work page (``background.sections``)."""
    steps = figures(org=org)
    return [
        {
            "template": "feedback/_background_pipeline.html",
            "steps": steps,
            "failures": failures(org=org),
            "failed": sum(s.failed for s in steps),
            "stuck": sum(s.stuck for s in steps),
        }
    ]
