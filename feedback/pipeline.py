"""What happens after a response: the steps, in order, and what each waits for.

When a response is completed (or changed), ``feedback.services.pipeline.schedule`` writes
one ``PipelineStep`` row per step below *in the same transaction*, so the work is never
lost and never starts for a response that was rolled back. Workers run each step as its
own task (``feedback.tasks.pipeline.pipeline_pass``); a step waits only for the steps in
its ``after``; one that keeps failing ends ``failed`` after ``MAX_ATTEMPTS`` and shows on
the admins' Background work page, with a retry. Every step must be idempotent: it may
run twice (a lost lease, a retry), and running it twice changes nothing.

A step is implemented by a function ``run(response)``: named here (``run``) when it lives
in feedback or below, or contributed by the app above that owns it, as
``pipeline.<name>`` in its ``AppConfig.contributes`` (``cxplatform.extensions``) — so
feedback never imports scorecards. A step with no implementation installed is skipped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils.module_loading import import_string

from cxplatform import extensions

MAX_ATTEMPTS = 5


def backoff(attempts: int) -> timedelta:
    """How long a failed step waits before its next attempt: 10 s, 40 s, 160 s … ≤ 15 min."""
    return timedelta(seconds=min(10 * 4 ** (attempts - 1), 900))


@dataclass(frozen=True)
class Step:
    name: str
    run: str = ""  # dotted path of run(response); empty: contributed as pipeline.<name>
    after: tuple[str, ...] = ()
    purpose: str = ""


STEPS: tuple[Step, ...] = (
    Step(
        "sentiment",
        run="feedback.services.sentiment.response_sentiment_update",
        purpose="The comment's sentiment, for the loop rules, the themes and the inbox.",
    ),
    Step(
        "loop_rules",
        after=("sentiment",),
        purpose="Closed-loop rules open a case on an unhappy answer (the closed-loop issue).",
    ),
    Step("rollups", purpose="The metric rollups count the response (scorecards)."),
    Step(
        "points",
        after=("rollups",),
        purpose="Incentive programmes award points for it (scorecards).",
    ),
    Step(
        "webhooks",
        after=("sentiment", "loop_rules"),
        purpose="response.created / response.updated to the integrations (the core).",
    ),
)


@functools.cache
def active_steps() -> tuple[Step, ...]:
    """The steps that have an implementation installed, in order; ``after`` keeps only
    active steps (a step never waits for one that cannot run)."""
    present = [s for s in STEPS if s.run or extensions.contributions(f"pipeline.{s.name}")]
    names = {s.name for s in present}
    return tuple(
        Step(s.name, s.run, tuple(a for a in s.after if a in names), s.purpose) for s in present
    )


def step(name: str) -> Step:
    for candidate in active_steps():
        if candidate.name == name:
            return candidate
    raise KeyError(f"no active pipeline step {name!r}")


def implementation(name: str) -> Callable[[Any], None]:
    """The function that runs step ``name`` for one response."""
    found = step(name)
    if found.run:
        return import_string(found.run)
    return extensions.contributions(f"pipeline.{name}")[-1]


def dependents(name: str) -> list[str]:
    """The active steps that wait for ``name``."""
    return [s.name for s in active_steps() if name in s.after]


def reset_cache() -> None:
    """Forget the active steps (after the installed contributions change: tests)."""
    active_steps.cache_clear()
    extensions.contributions.cache_clear()
