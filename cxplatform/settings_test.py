"""Test settings: the same settings module, with the few things tests must pin."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")

from cxplatform.settings import *  # noqa: F403
from cxplatform.settings import REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["*"]
# Tests call tasks synchronously unless an integration test runs a real worker.
CELERY_TASK_ALWAYS_EAGER = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"respondent": None}}
# Static files come from the finders (npm packages, static/); nothing is collected in tests.
WHITENOISE_AUTOREFRESH = True
