"""Tasks of the after-response pipeline: thin wrappers around feedback.services.pipeline.

The rows say what is left to do; a message only says "look now". A duplicate pass finds
nothing to claim, a lost one is replaced by the beat sweep.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from cxplatform import queue
from feedback.services import pipeline


@shared_task(ignore_result=True, acks_late=True)
def pipeline_pass(step: str) -> None:
    """Run the due rows of one step (bounded in time; hands on if more are left)."""
    pipeline.pass_run(
        step, max_seconds=None if queue.is_eager() else settings.CX_PIPELINE_PASS_SECONDS
    )


@shared_task(ignore_result=True)
def pipeline_sweep() -> None:
    """Beat: re-pend rows whose worker was lost; pass every step with due rows."""
    pipeline.sweep()


@shared_task(ignore_result=True)
def pipeline_prune() -> None:
    """Beat: delete done rows past their retention."""
    pipeline.prune()
