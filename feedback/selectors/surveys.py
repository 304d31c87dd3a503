"""Reads of surveys and questions, scoped to an organization."""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.db.models import Count, Prefetch, Q, QuerySet

from cxplatform.models import Organization
from feedback.models import Question, Survey
from feedback.models.responses import counted_q, flagged_q


def active_questions_qs() -> QuerySet[Question]:
    return Question.objects.filter(archived_at__isnull=True).order_by("position", "id")


def survey_list(
    *, org: Organization, q: str = "", kind: str = "", status: str = ""
) -> QuerySet[Survey]:
    """Surveys with their touchpoint, question and completed-response counts."""
    surveys = Survey.objects.for_org(org).select_related("touchpoint")
    if q:
        surveys = surveys.filter(Q(name__icontains=q) | Q(title__icontains=q))
    if kind:
        surveys = surveys.filter(kind=kind)
    if status:
        surveys = surveys.filter(status=status)
    return surveys.annotate(
        question_count=Count(
            "questions", filter=Q(questions__archived_at__isnull=True), distinct=True
        ),
        response_count=Count("responses", filter=counted_q("responses__"), distinct=True),
        flagged_count=Count("responses", filter=flagged_q("responses__"), distinct=True),
    ).order_by("status", "name", "id")


def survey_detail(*, org: Organization) -> QuerySet[Survey]:
    """Surveys with their active questions prefetched (``survey.questions.all()``)."""
    return (
        Survey.objects.for_org(org)
        .select_related("touchpoint", "touchpoint__stage", "touchpoint__stage__journey")
        .prefetch_related(Prefetch("questions", queryset=active_questions_qs()))
    )


def questions_of(*, survey: Survey) -> list[Question]:
    """The active questions in order, annotated with whether they have answers."""
    return list(active_questions_qs().filter(survey=survey).annotate(answer_count=Count("answers")))


def question_of(*, org: Organization, survey: Survey) -> QuerySet[Question]:
    return Question.objects.for_org(org).filter(survey=survey, archived_at__isnull=True)


def archived_questions(*, survey: Survey) -> QuerySet[Question]:
    return (
        Question.objects.filter(survey=survey, archived_at__isnull=False)
        .annotate(answer_count=Count("answers"))
        .order_by("-archived_at")
    )


# The respondent page reads a survey's questions on every request. They change rarely, and
# every change of them stamps ``Survey.updated_at`` (feedback.services.surveys), so each
# process keeps them keyed by (survey id, updated_at): the invitation's query already
# brings the survey, and a stale entry can never be hit. Treat the rows as read-only.
_QUESTIONS_CACHE: OrderedDict[tuple[int, object], list[Question]] = OrderedDict()
_QUESTIONS_CACHE_SIZE = 256
_QUESTIONS_LOCK = threading.Lock()


def questions_for_respondent(*, survey: Survey) -> list[Question]:
    """The survey's active questions in order (cached per process, see above)."""
    key = (survey.pk, survey.updated_at)
    with _QUESTIONS_LOCK:
        cached = _QUESTIONS_CACHE.get(key)
        if cached is not None:
            _QUESTIONS_CACHE.move_to_end(key)
            return cached
    questions = list(active_questions_qs().filter(survey_id=survey.pk))
    with _QUESTIONS_LOCK:
        _QUESTIONS_CACHE[key] = questions
        while len(_QUESTIONS_CACHE) > _QUESTIONS_CACHE_SIZE:
            _QUESTIONS_CACHE.popitem(last=False)
    return questions
