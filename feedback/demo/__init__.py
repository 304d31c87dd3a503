"""Demo data of the feedback domain, seeded in order: surveys, contacts, responses,
campaigns. Each sub-module has ``seed(*, org, stdout, quick)`` and is safe to run twice."""

from __future__ import annotations

from typing import Any

from feedback.demo import campaigns, contacts, responses, surveys


def seed(*, org: Any, stdout: Any = None, quick: bool = False) -> None:
    for step in (surveys, contacts, responses, campaigns):
        step.seed(org=org, stdout=stdout, quick=quick)
