from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from cxplatform.http import AuthedRequest
from cxplatform.tenancy import org_member_required
from cxplatform.views import coming_soon


@require_GET
@org_member_required()
def scorecard_home(request: AuthedRequest) -> HttpResponse:
    return coming_soon(
        request,
        title="Scorecards",
        icon="trophy",
        text="Reward the people who create great experiences: scorecards, points, leaderboards, eNPS.",
    )
