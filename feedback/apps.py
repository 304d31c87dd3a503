from __future__ import annotations

from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"
    # What this app adds to the pages of the apps below it (cxplatform.extensions).
    contributes = {
        "dashboard.cards": "feedback.dashboard.cards",
        "dashboard.panels": "feedback.dashboard.panels",
        "demo.seed": "feedback.demo.seed",
        "background.sections": "feedback.selectors.pipeline.background_sections",
        "touchpoint.panels": "feedback.selectors.touchpoints.touchpoint_panels",
    }
