"""Background work of the core."""

from __future__ import annotations

import socket

from celery import shared_task

from cxplatform import services


@shared_task(ignore_result=True)
def heartbeat(worker: str | None = None) -> None:
    """Record that a worker ran a task. Safe to repeat: one row per worker, updated."""
    services.worker_heartbeat(worker=worker or socket.gethostname())


@shared_task(ignore_result=True)
def member_invitation_send(membership_id: int, inviter: str = "") -> None:
    """Email a new member the link to choose a password (see services.member_invitation_send)."""
    services.member_invitation_send(membership_id=membership_id, inviter=inviter)
