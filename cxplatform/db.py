"""Reads that may come from a read replica: the dashboards.

With ``DATABASE_REPLICA_URL`` set, the queries made inside ``with db.replica():`` (the
dashboard page) read from the ``replica`` database; everything else, and every write,
uses ``default``. Without it (the demo, the tests) ``replica()`` changes nothing. A
replica lags its primary by a moment: only pages that tolerate that read from it, never
a page that shows what the same person has just saved.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.conf import settings

REPLICA = "replica"
_reading_replica = contextvars.ContextVar("cx_reading_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica() -> Iterator[None]:
    """Inside: reads go to the replica, when there is one."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads inside ``replica()`` from the replica; the rest
    (and writes, and migrations) on ``default``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _reading_replica.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db != REPLICA  # it follows its primary
