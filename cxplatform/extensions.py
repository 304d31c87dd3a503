"""How an app adds to the pages and commands of the apps it builds on, without them
importing it (apps depend one way: scorecards → feedback → journeys → core).

Each app's ``AppConfig`` names what it offers in ``contributes``: a dict of hook name →
dotted path of a callable. The app that owns a hook asks for its contributions, in
INSTALLED_APPS order; an app that is not installed contributes nothing. A dotted path
that does not import is an error at once, never silently skipped.

The hooks (who calls them, and with what):

- ``dashboard.cards`` / ``dashboard.panels`` (core dashboard): ``f(org=) -> list[dict]``
- ``demo.seed`` (``seed_demo``): ``f(org=, stdout=, quick=)``
- ``background.sections`` (core Background work page and API): ``f(org=) -> list[dict]``
- ``touchpoint.panels`` (journeys' touchpoint page): ``f(org=, touchpoint=) -> list[dict]``
- ``touchpoint.health`` (journeys' map badges): ``f(org=, touchpoint_ids=) -> dict``
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string


@functools.cache
def contributions(hook: str) -> tuple[Callable[..., Any], ...]:
    """The callables the installed apps contribute to ``hook``, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        path = getattr(config, "contributes", {}).get(hook)
        if path:
            found.append(import_string(path))
    return tuple(found)


def collect(hook: str, **kwargs: Any) -> list[Any]:
    """Call every contribution to ``hook`` and concatenate the lists they return."""
    parts: list[Any] = []
    for contribution in contributions(hook):
        parts.extend(contribution(**kwargs))
    return parts
