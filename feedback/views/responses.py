"""Responses: the staff feed (filterable, htmx), the response page, and the CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from cxplatform.http import AuthedRequest
from cxplatform.models import Role
from cxplatform.services import Actor
from cxplatform.tenancy import org_member_required
from feedback.forms.responses import ResponseFilterForm
from feedback.models import Answer, Question
from feedback.selectors import responses as selectors
from feedback.services import flags

PAGE_SIZE = 25
# A cell a spreadsheet would read as a formula (or DDE) when it starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: strings that start like a formula get a
    leading apostrophe (OWASP's advice against CSV injection). Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_HEADER = [
    "id",
    "submitted_at",
    "survey",
    "contact_email",
    "contact_name",
    "touchpoint",
    "employee",
    "channel",
    "question_type",
    "score",
    "category",
    "comment",
    "sentiment",
    "sentiment_label",
    "completed",
    "flagged_automated",
    "flag_reason",
]


def question_columns(questions: list[Question]) -> list[str]:
    """A header per question: its text, prefixed by the survey's name when the export
    spans several surveys; an archived version says so; never two alike."""
    several = len({q.survey_id for q in questions}) > 1
    names: list[str] = []
    for question in questions:
        name = f"{question.survey.name}: {question.text}" if several else question.text
        if question.archived_at is not None:
            name += " (earlier version)"
        base, n = name, 2
        while name in names or name in EXPORT_HEADER:
            name, n = f"{base} ({n})", n + 1
        names.append(name)
    return names


def export_rows(responses: Any) -> Iterator[list[Any]]:
    """The header, then one row per response: its fields, then one cell per question
    answered anywhere in the export (empty where this response did not answer it)."""
    questions = selectors.export_questions(responses)
    yield [*EXPORT_HEADER, *question_columns(questions)]
    for r in responses.prefetch_related("answers").iterator(chunk_size=500):
        answers: dict[int, Answer] = {a.question_id: a for a in r.answers.all()}
        cells = [answers.get(q.pk) for q in questions]
        yield [
            csv_cell(value)
            for value in (
                r.pk,
                r.submitted_at.isoformat() if r.submitted_at else "",
                r.survey.name,
                r.contact.email if r.contact else "",
                r.contact.name if r.contact else "",
                r.touchpoint.name if r.touchpoint else "",
                r.employee.name if r.employee else "",
                r.channel,
                r.primary_type,
                r.primary_score,
                r.category,
                r.comment,
                r.sentiment,
                r.sentiment_label,
                r.completed,
                r.flagged_automated,
                r.flag_reason,
                *(_answer_cell(a) for a in cells),
            )
        ]


def _answer_cell(answer: Answer | None) -> Any:
    if answer is None:
        return ""
    if answer.value_number is not None:
        return answer.value_number  # a number stays a number in the spreadsheet
    return answer.display_value


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def response_list(request: AuthedRequest) -> HttpResponse:
    form = ResponseFilterForm(request.GET or None, org=request.org)
    responses = selectors.response_list(org=request.org, filters=form.filters())
    page = Paginator(responses, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "feedback/response_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#feed"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "filtered": bool(form.is_bound and form.filters()),
            "export_query": request.GET.urlencode(),
            "title": "Responses",
        },
    )


@require_GET
@org_member_required()
def response_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    response = get_object_or_404(selectors.response_detail(org=request.org), pk=pk)
    return render(
        request,
        "feedback/response_detail.html",
        {
            "r": response,
            "answers": list(response.answers.all()),
            "title": "Response",
            "can_mark": request.membership.can(Role.MANAGER),
        },
    )


@require_POST
@org_member_required(Role.MANAGER)
def response_mark_genuine(request: AuthedRequest, pk: int) -> HttpResponse:
    """The response page's "Mark as genuine" button (htmx swaps the flag's box)."""
    response = get_object_or_404(selectors.response_detail(org=request.org), pk=pk)
    response = flags.response_mark_genuine(response=response, actor=Actor.from_request(request))
    if request.htmx:
        return render(
            request, "feedback/response_detail.html#flag", {"r": response, "marked": True}
        )
    messages.success(request, "Marked as genuine: it counts in the metrics now.")
    return redirect("feedback:response_detail", pk=pk)


@require_GET
@org_member_required()
def response_export(request: AuthedRequest) -> StreamingHttpResponse:
    """The filtered feed as CSV, streamed (any size), every cell safe to open in a
    spreadsheet."""
    form = ResponseFilterForm(request.GET or None, org=request.org)
    responses = selectors.response_list(org=request.org, filters=form.filters())
    writer = csv.writer(_Echo())
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    streaming = StreamingHttpResponse(
        (writer.writerow(row) for row in export_rows(responses)),
        content_type="text/csv; charset=utf-8",
    )
    streaming["Content-Disposition"] = f'attachment; filename="responses-{stamp}.csv"'
    return streaming


urlpatterns = [
    path("responses/", response_list, name="response_list"),
    path("responses/export.csv", response_export, name="response_export"),
    path("responses/<int:pk>/", response_detail, name="response_detail"),
    path("responses/<int:pk>/genuine/", response_mark_genuine, name="response_mark_genuine"),
]
