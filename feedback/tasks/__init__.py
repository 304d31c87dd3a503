"""Celery tasks of the feedback domain (thin: they call services). Celery's autodiscovery
imports this package; each sub-domain's tasks live in its own module, imported here."""

from __future__ import annotations

from feedback.tasks import (
    campaigns,  # noqa: F401
    contacts,  # noqa: F401
    delivery,  # noqa: F401
    pipeline,  # noqa: F401
    responses,  # noqa: F401
)
