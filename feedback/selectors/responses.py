"""Reads of responses and of the invitation behind a survey link."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from cxplatform.models import Organization
from feedback.models import Answer, Invitation, Question, Response

# The filters the feed, the export and the API share (keys of ``filters``).
FILTERS = (
    "survey",
    "touchpoint",
    "employee",
    "contact",
    "channel",
    "category",
    "since",
    "until",
    "completed",
    "flagged",
    "score_min",
    "score_max",
    "q",
)


def invitation_by_token(token: str, *, with_organization: bool = True) -> Invitation | None:
    """The invitation of a survey link, with its survey and contact (the save needs no
    more; the pages also show the organization's name)."""
    if not token or len(token) > 64:
        return None
    related = ("survey", "contact", "organization") if with_organization else ("survey", "contact")
    # No ORDER BY: the token is unique, and this query runs on every submission.
    found = list(Invitation.objects.select_related(*related).filter(token=token).order_by()[:1])
    return found[0] if found else None


def response_of_invitation(invitation: Invitation) -> Response | None:
    return Response.objects.filter(invitation=invitation).prefetch_related("answers").first()


def _day_start(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def response_list(
    *, org: Organization, filters: dict[str, Any] | None = None
) -> QuerySet[Response]:
    """Responses of ``org``, newest first, filtered; with survey, contact, touchpoint and
    employee joined. Partial (not completed) responses are included only when asked
    (``completed=False`` or None in ``filters``: by default the feed shows completed ones)."""
    filters = filters or {}
    responses = Response.objects.for_org(org).select_related(
        "survey", "contact", "touchpoint", "employee"
    )
    completed = filters.get("completed", True)
    if completed is not None and completed != "":
        responses = responses.filter(completed=bool(completed))
    for key in ("survey", "touchpoint", "employee", "contact"):
        value = filters.get(key)
        if value:
            responses = responses.filter(**{f"{key}_id": getattr(value, "pk", value)})
    if filters.get("channel"):
        responses = responses.filter(channel=filters["channel"])
    if filters.get("category"):
        responses = responses.filter(category=filters["category"])
    if filters.get("flagged") is not None and filters.get("flagged") != "":
        responses = responses.filter(flagged_automated=bool(filters["flagged"]))
    if filters.get("since"):
        responses = responses.filter(submitted_at__gte=_day_start(filters["since"]))
    if filters.get("until"):
        until = filters["until"]
        if isinstance(until, dt.datetime):
            responses = responses.filter(submitted_at__lte=_day_start(until))
        elif until < dt.date.max:  # the last date there is: no limit
            responses = responses.filter(submitted_at__lt=_day_start(until + dt.timedelta(days=1)))
    if filters.get("score_min") is not None and filters.get("score_min") != "":
        responses = responses.filter(primary_score__gte=filters["score_min"])
    if filters.get("score_max") is not None and filters.get("score_max") != "":
        responses = responses.filter(primary_score__lte=filters["score_max"])
    if filters.get("q"):
        responses = responses.filter(comment__icontains=filters["q"])
    return responses.order_by("-submitted_at", "-id")


def response_detail(*, org: Organization) -> QuerySet[Response]:
    """Responses with everything the response page shows."""
    return (
        Response.objects.for_org(org)
        .select_related(
            "survey",
            "contact",
            "touchpoint",
            "touchpoint__stage",
            "touchpoint__stage__journey",
            "employee",
            "campaign",
            "invitation",
        )
        .prefetch_related(Prefetch("answers", queryset=Answer.objects.select_related("question")))
    )


def responses_of_contact(*, org: Organization, contact: Any, limit: int = 50) -> QuerySet[Response]:
    """A contact's responses (partial ones too), newest first: for the contact timeline."""
    return (
        Response.objects.for_org(org)
        .filter(contact=contact)
        .select_related("survey", "touchpoint")
        .order_by("-started_at", "-id")[:limit]
    )


def export_questions(responses: QuerySet[Response]) -> list[Question]:
    """The questions answered in ``responses``, one export column each: by survey name,
    then position (an archived question, replaced after a change of type or choices,
    keeps its own column next to its successor). Carries ``survey``."""
    answered = Answer.objects.filter(response__in=responses.order_by().values("pk"))
    return list(
        Question.objects.filter(pk__in=answered.values("question_id"))
        .select_related("survey")
        .order_by("survey__name", "survey_id", "position", "id")
    )
