from __future__ import annotations

from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "journeys"
    verbose_name = "Customer journeys"
    # What this app adds to the pages of the apps below it (cxplatform.extensions).
    contributes = {
        "dashboard.cards": "journeys.dashboard.cards",
        "demo.seed": "journeys.demo.seed",
    }
