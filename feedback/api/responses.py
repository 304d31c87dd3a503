"""REST API: responses.

- ``GET responses/``: the organization's responses, newest first. Filters: ``survey``,
  ``touchpoint``, ``employee``, ``contact``, ``channel``, ``category``, ``since`` and
  ``until`` (ISO date or date-time, on ``submitted_at``), ``completed`` (default: true;
  ``all`` for every response), ``flagged``, ``score_min``, ``score_max``, ``q`` (comment).
- ``POST responses/``: record a response from another channel (a call-centre score, a chat
  rating) with the same validation as the survey page: ``survey`` (an active one),
  ``contact`` (id) or ``contact_email`` (created if new), optional ``touchpoint``,
  ``employee``, ``channel``, ``locale`` (a language of ``settings.LANGUAGES``), and
  ``answers`` ([{question, value}], each question once) and/or ``score`` and ``comment``
  (the primary question and the first free-text question; a question answered both ways is
  refused). Idempotent on ``external_ref``: a repeat answers 200 with the first response
  instead of 201. Every refusal is a 400 with field errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse

from cxplatform import rest
from cxplatform.api import OrgViewSet, router
from cxplatform.models import Employee, Role, role_at_least
from feedback.models import Contact, Response, ResponseChannel, Survey
from feedback.scoring import Category, QuestionType
from feedback.selectors import responses as selectors
from feedback.services import contacts as contact_services
from feedback.services import flags
from feedback.services import responses as services
from journeys.models import Touchpoint


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
    # Declared so the schema admits "": a response without a primary score has neither.
    primary_type = serializers.ChoiceField(
        choices=QuestionType.choices,
        allow_blank=True,
        read_only=True,
        help_text="The primary question's type; empty while it is unanswered.",
    )
    category = serializers.ChoiceField(
        choices=Category.choices,
        allow_blank=True,
        read_only=True,
        help_text="Promoter, passive… of the primary score; empty without one.",
    )
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


class AnswerInputSerializer(serializers.Serializer):
    question = serializers.IntegerField(
        help_text="The question's id (an active question of the survey; each question once)."
    )
    value = serializers.JSONField(help_text="A score, a text, a choice, or a list of choices.")


class ResponseCreateSerializer(serializers.Serializer):
    survey = rest.OrgRelatedField(
        Survey, help_text="An active survey (a draft or archived one is refused)."
    )
    contact = rest.OrgRelatedField(Contact, required=False, allow_null=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    touchpoint = rest.OrgRelatedField(Touchpoint, required=False, allow_null=True)
    employee = rest.OrgRelatedField(Employee, required=False, allow_null=True)
    channel = serializers.ChoiceField(choices=ResponseChannel.choices, default=ResponseChannel.API)
    answers = AnswerInputSerializer(
        many=True,
        required=False,
        help_text="[{question, value}], each question at most once.",
    )
    score = serializers.JSONField(
        required=False,
        help_text=(
            "The primary question's score: a shorthand for its answer. Give it here or in "
            "answers, not both (refused even when the two agree)."
        ),
    )
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text=(
            "The first free-text question's answer: a shorthand, like score. Give it here or "
            "in answers, not both."
        ),
    )
    external_ref = serializers.CharField(required=False, allow_blank=True, max_length=200)
    submitted_at = serializers.DateTimeField(required=False)
    locale = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        allow_blank=True,
        help_text="The language the person answered in.",
    )

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


def _moment(value: str) -> dt.date | dt.datetime | None:
    """A date (the selector reads ``until`` as that whole day), a date-time in UTC, or None
    when ``value`` is neither (malformed, an impossible date, or out of range once in UTC:
    PostgreSQL refuses offsets beyond ±15:59)."""
    try:
        # A date alone first: parse_datetime would read "2026-11-23" as its midnight.
        day = parse_date(value)
        if day is not None:
            return day
        moment = parse_datetime(value)
        if moment is None:
            return None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


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
        for key in ("survey", "touchpoint", "employee", "contact"):
            if key in filters and not 1 <= filters[key] <= rest.MAX_ID:
                errors[key] = ["An id: a whole number from 1."]
        for key, values in (("channel", ResponseChannel.values), ("category", Category.values)):
            if params.get(key):
                if params[key] in values:
                    filters[key] = params[key]
                else:
                    errors[key] = [f"One of: {', '.join(values)}."]
        if params.get("q"):
            if "\x00" in params["q"]:
                errors["q"] = ["Null characters are not allowed."]
            else:
                filters["q"] = params["q"]
        for key in ("since", "until"):
            if params.get(key):
                moment = _moment(params[key])
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

    @extend_schema(request=None, responses=ResponseSerializer)
    @action(detail=True, methods=["post"], url_path="mark-genuine")
    def mark_genuine(self, request: Request, *args: Any, **kwargs: Any) -> ApiResponse:
        """A response flagged as automated came from a person: it counts from now on
        (audited). Managers and admins. Repeating it changes nothing."""
        response = self.get_object()
        if not role_at_least(request.role, Role.MANAGER):
            raise exceptions.PermissionDenied("This needs the Manager role.")
        flags.response_mark_genuine(response=response, actor=self.actor)
        return ApiResponse(
            ResponseSerializer(selectors.response_detail(org=request.org).get(pk=response.pk)).data
        )


router.register("responses", ResponseViewSet, basename="response")
