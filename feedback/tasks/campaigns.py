"""Campaign tasks run by celery beat: scheduled launches, reminders, link expiry.
Thin and safe to repeat: the services decide from the rows what is due."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from feedback.services import campaigns


@shared_task(ignore_result=True)
def campaigns_launch_due() -> None:
    """Start scheduled campaigns whose send time has come."""
    campaigns.campaigns_launch_due()


@shared_task(ignore_result=True, acks_late=True)
def reminders_send() -> None:
    """Send due reminders to those who have not answered (bounded per run)."""
    campaigns.reminders_send(
        max_seconds=None if settings.CELERY_TASK_ALWAYS_EAGER else settings.CX_DELIVERY_PASS_SECONDS
    )


@shared_task(ignore_result=True)
def invitations_expire() -> None:
    """Mark unanswered invitations past their expiry as expired."""
    campaigns.invitations_expire()
