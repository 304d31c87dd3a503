"""Cases (the closed loop): a later milestone; the page says so."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from cxplatform.http import AuthedRequest
from cxplatform.tenancy import org_member_required
from cxplatform.views import coming_soon


@require_GET
@org_member_required()
def case_list(request: AuthedRequest) -> HttpResponse:
    return coming_soon(
        request,
        title="Cases",
        icon="life-preserver",
        text="Close the loop: every unhappy answer gets an owner, a deadline and a resolution.",
    )


urlpatterns = [path("cases/", case_list, name="case_list")]
