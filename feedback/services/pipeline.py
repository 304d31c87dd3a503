"""Running the after-response pipeline (the steps and their order: ``feedback/pipeline.py``).

- **Scheduling** (``schedule``): inside the transaction that completes or changes a
  response, one ``PipelineStep`` row per active step, pending (a changed response's rows
  go back to pending). The PostgreSQL respondent path writes the same rows inside its
  one-statement insert (``pending_rows``). After commit, ``nudge`` tells the workers.
- **The nudge** is debounced per process: at most one message per ``NUDGE_INTERVAL``
  (the first at once, the rest folded into one trailing message), because the rows, not
  the messages, carry the work. Eager mode (the demo, no broker) runs the pass at once.
- **A pass** (``pass_run(step)``, one task per step) claims due rows of its step whose
  prerequisites are done (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), each with a lease and
  one more attempt counted, then runs each row in its own transaction: the step's writes
  and the row's ``done`` commit together, fenced by (status, attempts) so a row whose
  lease expired and was claimed again cannot be marked twice. A failure records its error
  and waits ``backoff``; after ``MAX_ATTEMPTS`` the row is ``failed`` and stays for an
  admin (``retry``). Then the pass nudges the steps that wait for this one.
- **The sweep** (beat) puts rows whose lease expired (a killed worker) back to pending,
  and sends a pass for every step with due rows (a lost message, a lost nudge).
- **Retention**: done rows are pruned after ``CX_PIPELINE_KEEP_DONE``.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cxplatform import queue
from cxplatform.models import Organization
from feedback import pipeline
from feedback.models import PipelineStep, Response, StepStatus

logger = logging.getLogger(__name__)

PASS_TASK = "feedback.tasks.pipeline.pipeline_pass"  # noqa: S105 - a task name
NUDGE_INTERVAL = 0.1  # seconds: at most ~10 messages a second per web process
ERROR_MAX = 2000

# ---------------------------------------------------------------------------- scheduling


def pending_rows(response: Response, now: datetime) -> list[PipelineStep]:
    """The rows a newly completed response gets (unsaved)."""
    return [
        PipelineStep(
            organization_id=response.organization_id,
            response_id=response.pk,
            step=step.name,
            run_after=now,
            created_at=now,
            updated_at=now,
        )
        for step in pipeline.active_steps()
    ]


def schedule(response: Response, *, now: datetime | None = None) -> None:
    """Write the response's rows, or put them back to pending with fresh attempts, in the
    caller's transaction. (The caller nudges after commit: ``nudge_after_commit``.)"""
    rows = pending_rows(response, now or timezone.now())
    if rows:
        PipelineStep.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["organization", "response", "step"],
            update_fields=["status", "attempts", "last_error", "run_after", "leased_until"],
        )


def response_changed(response: Response) -> None:
    """A completed response changed (an answer marked genuine, an edit): its steps run
    again. Call inside the transaction that changed it."""
    if response.completed:
        schedule(response)
        nudge_after_commit()


# ---------------------------------------------------------------------------- the nudge


class _Nudger:
    """Per process: send the first nudge at once, fold the ones that follow within
    ``NUDGE_INTERVAL`` into one trailing nudge (a timer thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = 0.0
        self.timer: threading.Timer | None = None

    def __call__(self) -> None:
        with self.lock:
            wait = self.last + NUDGE_INTERVAL - time.monotonic()
            if wait > 0:
                if self.timer is None:
                    self.timer = threading.Timer(wait, self._fire)
                    self.timer.daemon = True
                    self.timer.start()
                return
            self.last = time.monotonic()
        send_passes()

    def _fire(self) -> None:
        with self.lock:
            self.timer, self.last = None, time.monotonic()
        send_passes()


_nudger = _Nudger()


def nudge() -> None:
    """Tell the workers there are rows to run."""
    if queue.is_eager():
        send_passes()  # in-process: run now, no thread
    else:
        _nudger()


def nudge_after_commit() -> None:
    transaction.on_commit(nudge, robust=True)


def send_passes(steps: Iterable[str] | None = None) -> None:
    """One pass message per step (default: the steps that wait for nothing; the others
    are nudged by the passes of what they wait for, and by the sweep)."""
    if steps is None:
        steps = [s.name for s in pipeline.active_steps() if not s.after]
    for name in steps:
        queue.send_now(PASS_TASK, (name,))


# ---------------------------------------------------------------------------- a pass


@dataclass
class PassResult:
    done: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.done + self.retried + self.failed + self.skipped


def _lease_seconds() -> float:
    return settings.CX_PIPELINE_LEASE_SECONDS


def claim(name: str, *, limit: int, now: datetime | None = None) -> list[PipelineStep]:
    """Claim up to ``limit`` due rows of step ``name``: running, leased, one more attempt."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=_lease_seconds())
    with transaction.atomic():
        rows = PipelineStep.objects.due(name, now).order_by("run_after", "id")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        ids = list(rows.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        # Re-checked in the UPDATE (SQLite has no SKIP LOCKED; writes are serialized).
        PipelineStep.objects.filter(pk__in=ids, status=StepStatus.PENDING).update(
            status=StepStatus.RUNNING,
            attempts=F("attempts") + 1,
            leased_until=lease,
            updated_at=now,
        )
        return list(
            PipelineStep.objects.filter(
                pk__in=ids, status=StepStatus.RUNNING, leased_until=lease
            ).order_by("run_after", "id")
        )


def _responses(rows: list[PipelineStep]) -> dict[int, Response]:
    return Response.objects.select_related("organization").in_bulk(
        [row.response_id for row in rows]
    )


def _fenced(row: PipelineStep) -> Any:
    """The row, still claimed by this attempt (not re-claimed after its lease expired)."""
    return PipelineStep.objects.filter(pk=row.pk, status=StepStatus.RUNNING, attempts=row.attempts)


class _SupersededError(Exception):
    """The row was claimed again (lease expired) or reset: this attempt's work is undone."""


def run_row(row: PipelineStep, response: Response | None, run: Any) -> str:
    """Run one claimed row; returns its outcome: done, retried, failed or skipped."""
    now = timezone.now()
    try:
        with transaction.atomic():
            if response is not None and response.completed:
                run(response)
            if not _fenced(row).update(
                status=StepStatus.DONE,
                done_at=now,
                leased_until=None,
                last_error="",
                updated_at=now,
            ):
                raise _SupersededError
    except _SupersededError:
        return "skipped"
    except Exception as exc:
        logger.warning("pipeline step %s failed for response %s", row.step, row.response_id)
        error = "".join(traceback.format_exception_only(exc)).strip()
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {last[0].filename}:{last[0].lineno})" if last else ""
        final = row.attempts >= pipeline.MAX_ATTEMPTS
        _fenced(row).update(
            status=StepStatus.FAILED if final else StepStatus.PENDING,
            last_error=f"{error}{where}"[:ERROR_MAX],
            run_after=now + pipeline.backoff(row.attempts),
            leased_until=None,
            updated_at=now,
        )
        return "failed" if final else "retried"
    return "done"


def pass_run(
    name: str, *, batch: int | None = None, max_seconds: float | None = None
) -> PassResult:
    """Run the due rows of step ``name`` until none is left or ``max_seconds`` passed
    (then hand on to a new pass). Nudges the steps that wait for this one."""
    batch = batch or settings.CX_PIPELINE_BATCH_SIZE
    run = pipeline.implementation(name)
    result = PassResult()
    deadline = time.monotonic() + max_seconds if max_seconds else None
    while True:
        rows = claim(name, limit=batch)
        if not rows:
            break
        responses = _responses(rows)
        for row in rows:
            outcome = run_row(row, responses.get(row.response_id), run)
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.ids.append(row.response_id)
        if len(rows) < batch:
            break
        if deadline is not None and time.monotonic() > deadline:
            send_passes([name])  # more to do: a fresh task, so others get the worker too
            break
    if result.done and (waiting := pipeline.dependents(name)):
        send_passes(waiting)
    return result


# ---------------------------------------------------------------------------- the sweep


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-pend rows whose lease expired; send a pass for each step with due rows.
    Returns {step: rows due} for the steps it nudged."""
    now = now or timezone.now()
    expired = PipelineStep.objects.filter(status=StepStatus.RUNNING, leased_until__lt=now)
    # The attempt was counted at the claim: a step that kills its worker every time
    # still ends failed after MAX_ATTEMPTS.
    expired.filter(attempts__gte=pipeline.MAX_ATTEMPTS).update(
        status=StepStatus.FAILED,
        last_error="The worker running this step stopped (its lease expired) on every attempt.",
        leased_until=None,
        updated_at=now,
    )
    lost = expired.update(status=StepStatus.PENDING, leased_until=None, updated_at=now)
    if lost:
        logger.warning("pipeline sweep: %d rows whose worker was lost are pending again", lost)
    due = {}
    for step in pipeline.active_steps():
        count = PipelineStep.objects.due(step.name, now).count()
        if count:
            due[step.name] = count
    send_passes(due)
    return due


def prune(*, now: datetime | None = None, batch: int = 10_000) -> int:
    """Delete done rows older than ``CX_PIPELINE_KEEP_DONE`` (in batches)."""
    cutoff = (now or timezone.now()) - settings.CX_PIPELINE_KEEP_DONE
    ids = list(
        PipelineStep.objects.filter(status=StepStatus.DONE, done_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:batch]
    )
    return PipelineStep.objects.filter(pk__in=ids).delete()[0] if ids else 0


# ---------------------------------------------------------------------------- admins


def retry(*, org: Organization, step: str | None = None, ids: Iterable[int] | None = None) -> int:
    """Put ``org``'s failed rows (of one step, or these ids) back to pending with fresh
    attempts, and nudge. Returns how many."""
    rows = PipelineStep.objects.for_org(org).filter(status=StepStatus.FAILED)
    if step:
        rows = rows.filter(step=step)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    now = timezone.now()
    count = rows.update(
        status=StepStatus.PENDING, attempts=0, run_after=now, leased_until=None, updated_at=now
    )
    if count:
        transaction.on_commit(lambda: send_passes([step] if step else None), robust=True)
    return count
