"""Test settings: the same settings module, with the few things tests must pin."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")

from cxplatform.settings import *  # noqa: F403
from cxplatform.settings import REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["*"]
# Unit tests run tasks in-process, through the same after-commit enqueue as production;
# the integration tests switch the Celery app to Redis and a real worker. Why: docs/testing.md.
CELERY_TASK_ALWAYS_EAGER = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"respondent": None}}
# Static files come from the finders (npm packages, static/); nothing is collected in tests.
WHITENOISE_AUTOREFRESH = True
