"""Reads of responses and of the invitation behind a survey link."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model, Prefetch, QuerySet
from django.utils import timezone

from cxplatform.models import Organization
from feedback import tokens
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
    """The invitation of a link (survey, one-click score, unsubscribe), with its survey and
    contact (the save needs no more; the pages also show the organization's name). The
    one lookup by token: a token too long to be one is not looked up.

    Every respondent's submission starts here, so the query is built once per process
    (``_token_query``), not compiled by the ORM on each call; the rows are the same model
    instances ``select_related`` would give, with every field loaded."""
    if not token or len(token) > 64:
        return None
    related = ("survey", "contact", "organization") if with_organization else ("survey", "contact")
    # The token names its organization: the lookup stays within it (feedback.tokens).
    org_id = tokens.organization_id(token)
    sql, parts = _token_query(connection.vendor, related, org_id is not None)
    with connection.cursor() as cursor:
        cursor.execute(sql, [token] if org_id is None else [org_id, token])
        row = cursor.fetchone()
    if row is None:
        return None
    objects = [part.build(row) for part in parts]
    invitation = objects[0]
    for part, obj in zip(parts[1:], objects[1:], strict=True):
        part.relation.set_cached_value(invitation, obj)
    return invitation


@dataclass(frozen=True)
class _Part:
    """One model's columns in the token query's row, and how to make its instance."""

    model: type[Model]
    relation: Any  # the Invitation foreign key it hangs on (None for the invitation)
    start: int
    attnames: tuple[str, ...]
    converters: tuple[tuple[Any, ...], ...]  # per column: (converter, column expression)

    def build(self, row: tuple) -> Model:
        values = list(row[self.start : self.start + len(self.attnames)])
        for i, chain in enumerate(self.converters):
            for convert, expression in chain:
                values[i] = convert(values[i], expression, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


@functools.cache
def _token_query(
    vendor: str, related: tuple[str, ...], with_org: bool
) -> tuple[str, tuple[_Part, ...]]:
    quote = connection.ops.quote_name
    joins, columns, parts = [], [], []
    sources = [(Invitation, None, "t0")]
    for n, name in enumerate(related, start=1):
        field = Invitation._meta.get_field(name)
        sources.append((field.related_model, field, f"t{n}"))
        joins.append(
            f"INNER JOIN {quote(field.related_model._meta.db_table)} t{n} "
            f"ON t{n}.{quote(field.target_field.column)} = t0.{quote(field.column)}"
        )
    for model, relation, alias in sources:
        fields = model._meta.concrete_fields
        converters = []
        for f in fields:
            col = f.get_col(alias)
            chain = [*connection.ops.get_db_converters(col), *f.get_db_converters(connection)]
            converters.append(tuple((convert, col) for convert in chain))
        parts.append(
            _Part(
                model,
                relation,
                len(columns),
                tuple(f.attname for f in fields),
                tuple(converters),
            )
        )
        columns += [f"{alias}.{quote(f.column)}" for f in fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(Invitation._meta.db_table)} t0 "  # noqa: S608
        f"{' '.join(joins)} WHERE "
        + (f"t0.{quote('organization_id')} = %s AND " if with_org else "")
        + f"t0.{quote('token')} = %s LIMIT 1"
    )
    return sql, tuple(parts)


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
