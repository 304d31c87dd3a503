"""The Celery app. Tasks are thin: they call services, which own the rules.

Without REDIS_URL tasks run in-process (settings.CELERY_TASK_ALWAYS_EAGER), so the demo
needs no broker. The beat schedule lives in settings (each app adds its entries).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
# Celery's Django fixup runs the system checks in every worker, which imports the URL conf
# and with it every view, DRF and the OpenAPI machinery: about 30 MB per pool process for
# nothing a task uses. The checks run where they matter (manage.py check, the web process).
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("cxplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
