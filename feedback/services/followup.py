"""The after-response fan-out: one place where the work that follows a response starts.

``response_committed(response_id)`` is called inside the transaction that completes a
response; it registers ``transaction.on_commit`` to enqueue the ``response_followup``
task, so nothing runs for a response that was rolled back and the request never waits
for the slow work. The task calls ``response_followup_run``, which runs every handler
named in ``settings.CX_RESPONSE_HANDLERS`` (dotted paths of ``handler(response)``) and
then stamps ``Response.followup_done_at``.

Handlers must be safe to repeat: Celery delivers at least once, and the sweep
(``followup_sweep``) re-enqueues completed responses whose follow-up has not been
stamped a few minutes after completion (a lost message, a crashed worker). Today's
handler computes the comment's sentiment; the closed-loop rules, metric rollups, points
and webhooks plug in by adding their handler to the setting.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(minutes=5)
POSITIVE_AT = 0.05  # VADER's recommended thresholds on the compound score
NEGATIVE_AT = -0.05


def response_committed(response_id: int) -> None:
    """Enqueue the follow-up of ``response_id`` once the current transaction commits."""
    from feedback.tasks import responses as tasks

    transaction.on_commit(lambda: tasks.response_followup.delay(response_id))


def handlers() -> list[Callable[[Any], None]]:
    return [_handler(path) for path in getattr(settings, "CX_RESPONSE_HANDLERS", [])]


@functools.cache
def _handler(path: str) -> Callable[[Any], None]:
    return import_string(path)


def response_followup_run(*, response_id: int) -> bool:
    """Run every handler for the response and stamp ``followup_done_at``. Returns False
    when the response does not exist (deleted) or is not completed yet. Safe to repeat:
    each handler is idempotent; a failing handler raises, leaving the stamp empty so the
    task's retry or the sweep runs them again."""
    from feedback.models import Response

    response = (
        Response.objects.select_related("survey", "contact", "touchpoint", "employee")
        .filter(pk=response_id, completed=True)
        .first()
    )
    if response is None:
        return False
    for handler in handlers():
        handler(response)
    Response.objects.filter(pk=response_id).update(followup_done_at=timezone.now())
    return True


def followup_sweep(*, now: datetime | None = None, batch: int = 500) -> list[int]:
    """Re-enqueue the follow-up of completed responses not stamped ``SWEEP_AFTER`` after
    completion. Returns the ids it enqueued."""
    from feedback.models import Response
    from feedback.tasks import responses as tasks

    cutoff = (now or timezone.now()) - SWEEP_AFTER
    ids = list(
        Response.objects.filter(
            completed=True, followup_done_at__isnull=True, submitted_at__lt=cutoff
        )
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in ids:
        tasks.response_followup.delay(pk)
    if ids:
        logger.info("followup sweep re-enqueued %d responses", len(ids))
    return ids


# ---------------------------------------------------------------------------- handlers


@functools.cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment_of(text: str) -> tuple[float | None, str]:
    """VADER's compound score of ``text`` and its label (positive / neutral / negative)."""
    text = (text or "").strip()
    if not text:
        return None, ""
    compound = round(_analyzer().polarity_scores(text)["compound"], 4)
    if compound >= POSITIVE_AT:
        return compound, "positive"
    if compound <= NEGATIVE_AT:
        return compound, "negative"
    return compound, "neutral"


def sentiment_handler(response: Any) -> None:
    """Store the sentiment of the response's comment. VADER's lexicon is English: a
    comment in another language gets no score rather than a wrong one. Idempotent."""
    from feedback.models import Response

    locale = (response.locale or "en").split("-")[0].split("_")[0].lower()
    if locale != "en":
        compound, label = None, ""
    else:
        compound, label = sentiment_of(response.comment)
    if response.sentiment != compound or response.sentiment_label != label:
        Response.objects.filter(pk=response.pk).update(sentiment=compound, sentiment_label=label)
        response.sentiment, response.sentiment_label = compound, label
