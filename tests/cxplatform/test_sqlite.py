"""The demo's SQLite database under concurrent requests (gunicorn workers, runserver
threads, the in-process worker thread)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import connections, transaction
from django.db.utils import ConnectionHandler


def _connect(alias: str, path: str):
    """A connection to the SQLite file ``path`` with the demo's options, for this thread."""
    database = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": dict(settings.SQLITE_OPTIONS),
    }
    handler = ConnectionHandler({"default": database, alias: database})
    connections[alias] = handler[alias]
    return connections[alias]


def _disconnect(alias: str) -> None:
    connections[alias].close()
    del connections[alias]


def test_two_requests_writing_at_once_both_succeed(tmp_path, django_db_blocker):
    """Found by schemathesis against the demo: a service whose transaction read first and
    wrote second failed with "database is locked" (a 500) when another request had
    written in between. Now the second writer waits for the first."""
    path = str(tmp_path / "demo.sqlite3")
    errors: list[Exception] = []

    def other_request() -> None:
        other = _connect("other", path)
        try:
            with transaction.atomic(using="other"):
                other.cursor().execute("INSERT INTO row VALUES (2)")
        except Exception as exc:  # the assertion below shows it
            errors.append(exc)
        finally:
            _disconnect("other")

    with django_db_blocker.unblock():
        this = _connect("this", path)
        try:
            this.cursor().execute("CREATE TABLE row (n INTEGER)")
            with transaction.atomic(using="this"):
                this.cursor().execute("SELECT count(*) FROM row").fetchone()  # reads first
                thread = threading.Thread(target=other_request)
                thread.start()
                thread.join(timeout=1)  # the other request writes, or waits for this one
                this.cursor().execute("INSERT INTO row VALUES (1)")  # then writes
            thread.join()
            rows = this.cursor().execute("SELECT n FROM row ORDER BY n").fetchall()
        finally:
            _disconnect("this")

    assert errors == []
    assert rows == [(1,), (2,)]
