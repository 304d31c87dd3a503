"""The one way to start background work: ``enqueue("app.tasks.module.task", *args)``.

Services never import tasks modules (tasks import services, so that would be a cycle):
they name the task. The message is sent only once the current transaction commits, so a
worker never looks for a row that is not there yet and a rolled-back change starts
nothing. Outside a transaction it is sent at once.

The broker only says "look now": every piece of background work is a row with a status,
and a periodic sweep re-enqueues what a lost message left behind. So a publish that fails
(Redis down, a timeout) is logged and dropped rather than failing the request that
committed the rows, and it gives up quickly rather than holding that request.

Without a broker (the demo) tasks run in-process at once (the Celery app's
``task_always_eager``, set from ``CELERY_TASK_ALWAYS_EAGER``).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

# Publishing: a couple of quick retries, then give up (the sweep will find the rows).
RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def enqueue(task_name: str, *args: Any, **kwargs: Any) -> None:
    """Send ``task_name(*args, **kwargs)`` to the workers after the current transaction
    commits. Arguments are ids and JSON values, never model instances."""
    transaction.on_commit(functools.partial(send_now, task_name, args, kwargs), robust=True)


def is_eager() -> bool:
    """True when tasks run in-process (no broker: the demo, most tests)."""
    from cxplatform.celery import app

    return bool(app.conf.task_always_eager)


def send_now(
    task_name: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> None:
    """Send the task now, whatever the transaction state (for callers that know the rows
    it needs are committed: a task handing on to itself, a sweep, a debounced nudge).
    Never raises for a broker problem: it is logged, and the rows wait for the sweep."""
    from cxplatform.celery import app

    kwargs = kwargs or {}
    if is_eager():
        # In-process: run the registered task now (errors propagate, as eager tasks do).
        _task(task_name).apply(args=args, kwargs=kwargs, throw=True)
        return
    try:
        app.send_task(task_name, args=args, kwargs=kwargs, retry=True, retry_policy=RETRY_POLICY)
    except Exception:
        logger.exception(
            "could not enqueue %s; the periodic sweep will pick its rows up", task_name
        )


@functools.cache
def _task(task_name: str) -> Any:
    from cxplatform.celery import app

    if task_name not in app.tasks:
        # Registers every installed app's tasks modules (Celery's autodiscovery is lazy).
        app.loader.import_default_modules()
    return app.tasks[task_name]
