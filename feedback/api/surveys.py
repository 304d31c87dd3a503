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

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cxplatform.api import OrgViewSet, router
from cxplatform.rest import OrgRelatedField
from feedback.models import Question, Survey
from feedback.selectors import surveys as selectors
from feedback.services import surveys as services
from feedback.services import translations as translation_services
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


class TranslationTextSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='"survey.title", "q12.text", "q12.choice.0"…')
    label = serializers.CharField()
    source = serializers.CharField(help_text="The text in the survey's own language.")
    translation = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(
        choices=["ok", "missing", "stale"],
        help_text="missing: not translated; stale: the source changed since.",
    )


class SurveyTranslationsSerializer(serializers.Serializer):
    locale = serializers.CharField()
    needs_translation = serializers.IntegerField(help_text="Texts missing or stale.")
    texts = TranslationTextSerializer(many=True)


class SurveyTranslationsInputSerializer(serializers.Serializer):
    texts = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=True),
        help_text="{key: translation}; an empty text removes it; keys left out are kept.",
    )


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

    @extend_schema(methods=["GET"], responses=SurveyTranslationsSerializer)
    @extend_schema(
        methods=["PUT"],
        request=SurveyTranslationsInputSerializer,
        responses=SurveyTranslationsSerializer,
    )
    @action(
        detail=True,
        methods=["get", "put"],
        url_path=r"translations/(?P<locale>[a-z]{2}(?:-[a-z]{2,8})?)",
        url_name="translations",
    )
    def translations_detail(self, request: Request, locale: str, **kwargs: Any) -> Response:
        """The survey's texts beside their ``locale`` translation and what needs a
        translator (GET); PUT saves translations (managers), as the editor does."""
        survey = self.get_object()
        if locale not in dict(translation_services.languages(survey)):
            raise Http404
        if request.method == "PUT":
            payload = SurveyTranslationsInputSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            try:
                survey = translation_services.survey_translations_save(
                    survey=survey,
                    locale=locale,
                    texts=payload.validated_data["texts"],
                    actor=self.actor,
                )
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"texts": exc.messages}) from None
        rows = translation_services.rows(survey, locale)
        return Response(
            SurveyTranslationsSerializer(
                {
                    "locale": locale,
                    "needs_translation": sum(row.needs_translation for row in rows),
                    "texts": rows,
                }
            ).data
        )


router.register("surveys", SurveyViewSet, basename="survey")
