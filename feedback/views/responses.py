"""Responses: the staff feed (filterable, htmx), the response page, and the CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from cxplatform.http import AuthedRequest
from cxplatform.tenancy import org_member_required
from feedback.forms.responses import ResponseFilterForm
from feedback.models import Answer
from feedback.selectors import responses as selectors

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
    "answers",
]


def export_rows(responses: Any) -> Iterator[list[Any]]:
    yield EXPORT_HEADER
    for r in responses.prefetch_related("answers").iterator(chunk_size=500):
        answers: list[Answer] = list(r.answers.all())
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
                " | ".join(f"{a.question_text}: {a.display_value}" for a in answers),
            )
        ]


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
        {"r": response, "answers": list(response.answers.all()), "title": "Response"},
    )


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
]
