"""REST API: surveys with their nested questions.

- ``surveys/`` list (filters ``kind``, ``status``, ``touchpoint``; search on name and
  title), create with ``questions`` (in order).
- ``surveys/<id>/`` read, update (PATCH/PUT; a ``questions`` list replaces the active
  questions: entries with an ``id`` update that question, entries without one are added,
  questions left out are removed; questions with answers are archived, never lost), and
  DELETE, which archives the survey (its responses stay).

Rules (400 with field errors): exactly one primary question of the kind's type for NPS,
CSAT, CES and eNPS surveys; choice questions need at least two distinct choices; only a
scored question can be primary.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from cxplatform.api import OrgViewSet, router
from cxplatform.rest import OrgRelatedField
from feedback.models import Question, Survey
from feedback.selectors import surveys as selectors
from feedback.services import surveys as services
from journeys.models import Touchpoint


class QuestionSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(
        required=False, help_text="Give it to update that question; leave it out to add one."
    )
    choices = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="The options of a choice question (at least two).",
    )
    translations = serializers.DictField(
        required=False, help_text="{locale: {text, help_text, choices, low_label, high_label}}"
    )

    class Meta:
        model = Question
        fields = [
            "id",
            "type",
            "text",
            "help_text",
            "required",
            "is_primary",
            "position",
            "choices",
            "low_label",
            "high_label",
            "translations",
        ]
        read_only_fields = ["position"]


class SurveySerializer(serializers.ModelSerializer):
    touchpoint = OrgRelatedField(Touchpoint, required=False, allow_null=True)
    questions = QuestionSerializer(many=True, required=False)
    translations = serializers.DictField(
        required=False, help_text="{locale: {title, intro, thank_you}}"
    )

    class Meta:
        model = Survey
        fields = ["id", *services.SURVEY_FIELDS, "questions", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


@extend_schema_view(
    destroy=extend_schema(
        description="Archive the survey: it stops taking answers, its responses stay."
    )
)
class SurveyViewSet(OrgViewSet):
    """Surveys and their questions (see the module docstring for the rules)."""

    queryset = Survey.objects.all()
    serializer_class = SurveySerializer
    filterset_fields = ["kind", "status", "touchpoint"]
    search_fields = ["name", "title"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.survey_detail(org=org).order_by("name", "id")

    def perform_create(self, serializer: SurveySerializer) -> None:
        data = dict(serializer.validated_data)
        questions = [dict(q) for q in data.pop("questions", [])]
        for question in questions:
            question.pop("id", None)
        survey = services.survey_create(
            org=self.request.org, actor=self.actor, questions=questions, **data
        )
        serializer.instance = self.get_queryset().get(pk=survey.pk)

    def perform_update(self, serializer: SurveySerializer) -> None:
        data = dict(serializer.validated_data)
        questions = data.pop("questions", None)
        survey = services.survey_update(
            survey=serializer.instance,
            data=data,
            actor=self.actor,
            questions=None if questions is None else [dict(q) for q in questions],
        )
        serializer.instance = self.get_queryset().get(pk=survey.pk)

    def perform_destroy(self, instance: Survey) -> None:
        services.survey_archive(survey=instance, actor=self.actor)


router.register("surveys", SurveyViewSet, basename="survey")
