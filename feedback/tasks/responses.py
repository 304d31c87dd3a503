"""Tasks of responses (thin; see feedback.services.responses)."""

from __future__ import annotations

from celery import shared_task

from feedback.services import responses


@shared_task(ignore_result=True)
def responses_sweep() -> None:
    """Periodic: complete abandoned responses that have their score. Safe to repeat."""
    responses.responses_complete_abandoned()
