"""Logging filters used by the LOGGING setting."""

from __future__ import annotations

import logging


class RefusalWithoutTraceback(logging.Filter):
    """A refused request (403, 404, 405, a 400 from a bad Host header…) is the client's
    doing, not a bug: Django logs it with the exception attached, which prints a full
    traceback for every viewer who clicks a manager's button. Keep the one line; a 5xx
    keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500 and record.name.startswith("django."):
            record.exc_info = None
            record.exc_text = None
        return True
