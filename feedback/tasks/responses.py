"""Tasks of responses: the after-response fan-out and its sweep (thin; see the services)."""

from __future__ import annotations

from celery import shared_task

from feedback.services import followup, responses


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def response_followup(response_id: int) -> None:
    """Run the after-response handlers for one response. Safe to run twice: each handler
    is idempotent (see feedback.services.followup)."""
    followup.response_followup_run(response_id=response_id)


@shared_task(ignore_result=True)
def responses_sweep() -> None:
    """Periodic: complete abandoned responses that have their score, and re-enqueue the
    follow-up of completed responses it never reached. Safe to repeat."""
    responses.responses_complete_abandoned()
    followup.followup_sweep()
