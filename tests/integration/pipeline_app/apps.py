from __future__ import annotations

from django.apps import AppConfig


class PipelineTestConfig(AppConfig):
    name = "tests.integration.pipeline_app"
    label = "pipeline_test"
    contributes = {"pipeline.rollups": "tests.integration.pipeline_app.steps.slow_rollup"}
