"""Delivery tasks: thin wrappers around feedback.services.outbox, safe to repeat.

The broker only signals; the invitation rows say what is left to do. A lost or duplicated
message changes nothing: a duplicate pass finds nothing to claim, a lost one is replaced
by the beat sweep.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from feedback.services import outbox


@shared_task(ignore_result=True, acks_late=True)
def delivery_pass() -> None:
    """Claim and send invitation batches until none is left (bounded; hands on if not)."""
    result = outbox.delivery_run(
        max_seconds=None if settings.CELERY_TASK_ALWAYS_EAGER else settings.CX_DELIVERY_PASS_SECONDS
    )
    if result.more:
        delivery_pass.delay()


@shared_task(ignore_result=True)
def delivery_sweep() -> None:
    """Beat: enqueue passes when anything is claimable (expired claims, due retries,
    pending rows whose kick was lost), and complete finished campaigns."""
    outbox.delivery_sweep()
