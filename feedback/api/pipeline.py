"""REST API of the after-response pipeline: the Background work page's figures and
failures, and the retry.

- ``pipeline-steps/``: the rows not done yet (pending, running, failed), filterable by
  ``status`` and ``step``; done rows are history, counted in the summary.
- ``pipeline-steps/summary/``: per step, the counts of the Background work page.
- ``pipeline-steps/retry/`` (POST, admin): put failed rows back to pending (``step``, or
  ``ids``, or every failed row).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from cxplatform.api import OrgViewSet, router
from cxplatform.models import Role
from feedback import pipeline as steps
from feedback.models import PipelineStep
from feedback.selectors import pipeline as selectors
from feedback.services import pipeline as services


class PipelineStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = PipelineStep
        fields = [
            "id",
            "response",
            "step",
            "status",
            "attempts",
            "last_error",
            "run_after",
            "leased_until",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StepFiguresSerializer(serializers.Serializer):
    step = serializers.CharField()
    purpose = serializers.CharField()
    pending = serializers.IntegerField()
    waiting = serializers.IntegerField(help_text="Pending, but a step it waits for is not done.")
    running = serializers.IntegerField()
    stuck = serializers.IntegerField(help_text="Running past their lease (the sweep re-pends).")
    failed = serializers.IntegerField()
    done_24h = serializers.IntegerField()
    oldest_pending = serializers.DateTimeField(allow_null=True)


class RetrySerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=[], required=False)
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=1000,
        help_text="Row ids (from pipeline-steps/); default: every failed row (of the step).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["step"].choices = [s.name for s in steps.active_steps()]


class PipelineStepViewSet(OrgViewSet):
    """The after-response steps not done yet, for monitoring; the summary and retry."""

    queryset = PipelineStep.objects.all()
    serializer_class = PipelineStepSerializer
    http_method_names = ["get", "post", "head", "options"]
    write_role = Role.ADMIN
    filterset_fields = {"status": ["exact"], "step": ["exact"]}
    ordering_fields = ["updated_at", "run_after"]

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.open_rows(org=org)

    @extend_schema(exclude=True)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.MethodNotAllowed(request.method)  # rows are written by the platform

    @extend_schema(responses=StepFiguresSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def summary(self, request: Request) -> Response:
        figures = selectors.figures(org=request.org)
        return Response(StepFiguresSerializer(figures, many=True).data)

    @extend_schema(
        request=RetrySerializer,
        responses=inline_serializer("PipelineRetry", {"retried": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser])
    def retry(self, request: Request) -> Response:
        serializer = RetrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        count = services.retry(org=request.org, step=data.get("step"), ids=data.get("ids"))
        return Response({"retried": count})


router.register("pipeline-steps", PipelineStepViewSet, basename="pipeline-step")
