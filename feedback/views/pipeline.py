"""The admins' retry of failed after-response steps (the figures are on the core's
Background work page, which this app's section joins)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from cxplatform.http import AuthedRequest
from cxplatform.models import Role
from cxplatform.tenancy import org_member_required
from feedback import pipeline as steps
from feedback.services import pipeline


@require_POST
@org_member_required(Role.ADMIN)
def pipeline_retry(request: AuthedRequest) -> HttpResponse:
    """Retry the failed rows of one step (``step``) or one row (``id``)."""
    step = request.POST.get("step", "")
    row = request.POST.get("id", "")
    if step and step not in {s.name for s in steps.active_steps()}:
        messages.error(request, f"There is no step “{step[:40]}”.")
        return redirect("background_work")
    ids = [int(row)] if row.isdigit() and len(row) < 19 else None
    if row and ids is None:
        messages.error(request, "That is not a row of the pipeline.")
        return redirect("background_work")
    count = pipeline.retry(org=request.org, step=step or None, ids=ids)
    if count:
        messages.success(request, f"{count} step{'s' if count != 1 else ''} queued again.")
    else:
        messages.info(request, "Nothing to retry: no failed step matched.")
    return redirect("background_work")


urlpatterns = [
    path("background/pipeline/retry/", pipeline_retry, name="pipeline_retry"),
]
