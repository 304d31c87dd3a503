"""The after-response pipeline with a real worker on Redis and PostgreSQL: a worker killed
in the middle of a step loses nothing and runs nothing twice."""

from __future__ import annotations

import pytest
from django.db.models import Count

from cxplatform.models import AuditEvent
from feedback import pipeline as steps
from feedback.models import PipelineStep, Response
from feedback.services import pipeline
from feedback.services import responses as services
from feedback.services import surveys as survey_services
from tests.factories import OrganizationFactory
from tests.feedback.factories import SurveyFactory
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

SLOW_STEP = "tests.integration.pipeline_app.steps.slow_rollup"
LEASE = "3"


def record_many(survey, n: int) -> list[int]:
    questions = list(survey_services.active_questions(survey))
    primary = next(q for q in questions if q.is_primary)
    comment = next(q for q in questions if q.type == "text")
    ids = []
    for i in range(n):
        raw = {primary.pk: str(i % 11), comment.pk: "Quick and friendly, thank you!"}
        data = services.ResponseInput(
            org=survey.organization,
            survey=survey,
            questions=questions,
            answers=services.answers_clean(questions, raw, require=False),
            channel="api",
            complete=True,
        )
        ids.append(services.response_record(data).response.pk)
    return ids


def test_a_worker_killed_mid_pipeline_ends_with_every_step_done_once(
    start_worker, contribute, settings
):
    # The test process writes rows for the slow step too (as scorecards will contribute it).
    contribute("scorecards", "pipeline.rollups", SLOW_STEP)
    steps.reset_cache()
    settings.CX_PIPELINE_LEASE_SECONDS = float(LEASE)
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.integration.settings_pipeline",
        "CX_PIPELINE_LEASE_SECONDS": LEASE,
    }
    first = start_worker(**env)
    org = OrganizationFactory(slug="acme")
    survey = SurveyFactory(organization=org)
    ids = record_many(survey, 120)  # each nudges (debounced): the rows carry the work
    assert PipelineStep.objects.filter(response_id__in=ids).count() == 240

    def rollups_done() -> int:
        return PipelineStep.objects.filter(step="rollups", status="done").count()

    wait_for(lambda: rollups_done() >= 15, timeout=60, what=f"some steps run:\n{first.output()}")
    first.kill()  # SIGKILL, in the middle of a step (each takes 50 ms)
    killed_at = rollups_done()
    assert killed_at < 120, "the pipeline finished before the kill: make it slower"
    assert PipelineStep.objects.filter(step="rollups", status="running").exists()

    second = start_worker(**env)

    def all_done() -> bool:
        pipeline.sweep()  # what beat does every CX_PIPELINE_SWEEP_SECONDS
        return not PipelineStep.objects.exclude(status="done").exists()

    wait_for(all_done, timeout=90, interval=0.5, what=f"every step done:\n{second.output()}")

    # Every step of every response done, and the slow step committed exactly once each.
    done = PipelineStep.objects.filter(response_id__in=ids, status="done")
    assert done.count() == 240
    runs = (
        AuditEvent.objects.filter(action="test.rollup").values("object_id").annotate(n=Count("id"))
    )
    assert sorted(int(r["object_id"]) for r in runs) == sorted(ids)
    assert {r["n"] for r in runs} == {1}
    # The step the worker died in ran again under a new lease (its attempt counted).
    assert PipelineStep.objects.filter(step="rollups", attempts__gte=2).exists()
    assert Response.objects.filter(pk__in=ids, sentiment_label="positive").count() == 120
