"""Demo data of the feedback domain, seeded in order: surveys, contacts, responses,
campaigns. Each sub-module has ``seed(*, org, stdout, quick)`` and is safe to run twice."""

from __future__ import annotations

import importlib
from typing import Any

from django.utils.module_loading import module_has_submodule

import feedback.demo as package

STEPS = ["surveys", "contacts", "responses", "campaigns"]


def seed(*, org: Any, stdout: Any = None, quick: bool = False) -> None:
    for step in STEPS:
        if module_has_submodule(package, step):
            importlib.import_module(f"feedback.demo.{step}").seed(
                org=org, stdout=stdout, quick=quick
            )
