"""REST API: responses.

- ``GET responses/``: the organization's responses, newest first. Filters: ``survey``,
  ``touchpoint``, ``employee``, ``contact``, ``channel``, ``category``, ``since`` and
  ``until`` (ISO date or date-time, on ``submitted_at``), ``completed`` (default: true;
  ``all`` for every response), ``flagged``, ``score_min``, ``score_max``, ``q`` (comment).
- ``POST responses/``: record a response from another channel (a call-centre score, a chat
  rating) with the same validation as the survey page: ``survey``, ``contact`` (id) or
  ``contact_email`` (created if new), optional ``touchpoint``, ``employee``, ``channel``,
  and either ``answers`` ([{question, value}]) or ``score`` and/or ``comment`` (the
  primary question and the first free-text question). Idempotent on ``external_ref``: a
  repeat answers 200 with the first response instead of 201.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse

from cxplatform.api import OrgViewSet, router
from cxplatform.models import Role
from feedback.models import Contact, Response, ResponseChannel, Survey
from feedback.scoring import Category
from feedback.selectors import responses as selectors
from feedback.services import contacts as contact_services
from feedback.services import responses as services
from journeys.models import Touchpoint
from scorecards.models import Employee


class AnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question_id")
    question_text = serializers.CharField()
    question_type = serializers.CharField()
    value = serializers.SerializerMethodField(help_text="A number, a text, or a list of choices.")

    def get_value(self, answer: Any) -> Any:
        if answer.value_number is not None:
            return answer.value_number
        if answer.value_choices:
            return answer.value_choices
        return answer.value_text


class ResponseSerializer(serializers.ModelSerializer):
    contact_email = serializers.SerializerMethodField()
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Response
        fields = [
            "id",
            "survey",
            "contact",
            "contact_email",
            "touchpoint",
            "employee",
            "campaign",
            "invitation",
            "channel",
            "external_ref",
            "primary_type",
            "primary_score",
            "category",
            "comment",
            "sentiment",
            "sentiment_label",
            "locale",
            "completed",
            "flagged_automated",
            "flag_reason",
            "started_at",
            "submitted_at",
            "answers",
        ]
        read_only_fields = fields

    def get_contact_email(self, response: Response) -> str | None:
        return response.contact.email if response.contact_id else None


@extend_schema_field(OpenApiTypes.INT)
class OrgRelated(serializers.PrimaryKeyRelatedField):
    """A foreign key to a row of the caller's organization (another's is "not found")."""

    def __init__(self, model: type, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        return self.model.objects.for_org(self.context["org"])


class AnswerInputSerializer(serializers.Serializer):
    question = serializers.IntegerField(help_text="The question's id (an active question).")
    value = serializers.JSONField(help_text="A score, a text, a choice, or a list of choices.")


class ResponseCreateSerializer(serializers.Serializer):
    survey = OrgRelated(Survey)
    contact = OrgRelated(Contact, required=False, allow_null=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    touchpoint = OrgRelated(Touchpoint, required=False, allow_null=True)
    employee = OrgRelated(Employee, required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=ResponseChannel.choices, default=ResponseChannel.API)
    answers = AnswerInputSerializer(many=True, required=False)
    score = serializers.JSONField(required=False, help_text="The primary question's score.")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=200)
    submitted_at = serializers.DateTimeField(required=False)
    locale = serializers.CharField(required=False, allow_blank=True, max_length=10)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("contact") and attrs.get("contact_email"):
            raise serializers.ValidationError(
                {"contact_email": ["Give either contact or contact_email, not both."]}
            )
        if not attrs.get("answers") and attrs.get("score") is None and not attrs.get("comment"):
            raise serializers.ValidationError(
                {"answers": ["Give answers, or a score and/or a comment."]}
            )
        return attrs


def _moment(value: str, *, end: bool) -> dt.datetime | None:
    moment = parse_datetime(value)
    if moment is not None:
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    day = parse_date(value)
    if day is None:
        return None
    if end:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


FILTER_PARAMETERS = [
    OpenApiParameter("survey", OpenApiTypes.INT),
    OpenApiParameter("touchpoint", OpenApiTypes.INT),
    OpenApiParameter("employee", OpenApiTypes.INT),
    OpenApiParameter("contact", OpenApiTypes.INT),
    OpenApiParameter("channel", OpenApiTypes.STR, enum=ResponseChannel.values),
    OpenApiParameter("category", OpenApiTypes.STR, enum=Category.values),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO date or date-time."),
    OpenApiParameter(
        "until", OpenApiTypes.DATETIME, description="ISO date (inclusive) or date-time."
    ),
    OpenApiParameter("completed", OpenApiTypes.STR, enum=["true", "false", "all"]),
    OpenApiParameter("flagged", OpenApiTypes.BOOL),
    OpenApiParameter("score_min", OpenApiTypes.INT),
    OpenApiParameter("score_max", OpenApiTypes.INT),
    OpenApiParameter("q", OpenApiTypes.STR, description="Text in the comment."),
]


@extend_schema_view(
    list=extend_schema(parameters=FILTER_PARAMETERS),
    create=extend_schema(
        request=ResponseCreateSerializer,
        responses={
            201: ResponseSerializer,
            200: OpenApiResponse(ResponseSerializer, description="A repeat of external_ref."),
        },
    ),
)
class ResponseViewSet(OrgViewSet):
    """Responses: read them, or record one from another channel."""

    queryset = Response.objects.all()
    serializer_class = ResponseSerializer
    write_role = Role.AGENT  # agents record the scores of the calls and chats they handle
    http_method_names = ["get", "post", "head", "options"]
    filter_backends: list = []  # the filters below go through the selector

    def get_org_queryset(self, org: Any) -> Any:
        if self.action != "list":
            return selectors.response_detail(org=org)
        return selectors.response_list(org=org, filters=self._filters()).prefetch_related("answers")

    def _filters(self) -> dict[str, Any]:
        params = self.request.query_params
        filters: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for key in ("survey", "touchpoint", "employee", "contact", "score_min", "score_max"):
            if params.get(key, "") != "":
                try:
                    filters[key] = int(params[key])
                except ValueError:
                    errors[key] = ["A whole number."]
        for key in ("channel", "category", "q"):
            if params.get(key):
                filters[key] = params[key]
        for key in ("since", "until"):
            if params.get(key):
                moment = _moment(params[key], end=key == "until")
                if moment is None:
                    errors[key] = ["An ISO date (2026-11-23) or date-time."]
                else:
                    filters[key] = moment
        completed = params.get("completed", "true").lower()
        if completed not in {"true", "false", "all", "1", "0"}:
            errors["completed"] = ["true, false or all."]
        filters["completed"] = None if completed == "all" else completed in {"true", "1"}
        if params.get("flagged", "") != "":
            filters["flagged"] = params["flagged"].lower() in {"true", "1"}
        if errors:
            raise serializers.ValidationError(errors)
        return filters

    def create(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        serializer = ResponseCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        org = request.org
        try:
            contact = data.get("contact")
            if contact is None and data.get("contact_email"):
                contact, _ = contact_services.contact_get_or_create(
                    org=org, actor=self.actor, email=data["contact_email"]
                )
            recorded = services.response_record_external(
                org=org,
                actor=self.actor,
                survey=data["survey"],
                channel=data["channel"],
                contact=contact,
                touchpoint=data.get("touchpoint"),
                employee=data.get("employee"),
                answers=[dict(a) for a in data.get("answers", [])],
                score=data.get("score"),
                comment=data.get("comment"),
                external_ref=data.get("external_ref", ""),
                submitted_at=data.get("submitted_at"),
                locale=data.get("locale", ""),
            )
        except DjangoValidationError as exc:
            detail = (
                exc.message_dict
                if hasattr(exc, "error_dict")
                else {"non_field_errors": exc.messages}
            )
            raise serializers.ValidationError(detail) from None
        body = ResponseSerializer(
            selectors.response_detail(org=org).get(pk=recorded.response.pk)
        ).data
        return ApiResponse(
            body, status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK
        )


router.register("responses", ResponseViewSet, basename="response")
