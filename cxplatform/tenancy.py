"""The one tenancy mechanism.

UI: ``OrganizationMiddleware`` sets ``request.org`` and ``request.membership`` from the
user's active membership (kept in the session, switchable). API: ``cxplatform.api``
sets the same two attributes from the API key or the session. Every view, endpoint and
selector then reads ``request.org``; a row of another organization is never found (404).

``org_member_required(role)`` guards staff views: anonymous users go to the login page,
users without a membership see a friendly page, members below ``role`` get 403. It also
activates the organization's time zone, so every staff page (and its htmx fragments)
shows and reads times in that zone; the middleware deactivates it after the response.
The API does not: its times are ISO 8601 UTC.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from cxplatform.models import Membership, Role

SESSION_KEY = "active_organization_id"


def active_membership(request: HttpRequest) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user).select_related("organization", "team")
    wanted = request.session.get(SESSION_KEY)
    membership = None
    if wanted:
        membership = memberships.filter(organization_id=wanted).first()
    if membership is None:
        membership = memberships.order_by("created_at", "id").first()
    return membership


def activate(request: HttpRequest, membership: Membership) -> None:
    request.session[SESSION_KEY] = membership.organization_id
    request.membership = membership
    request.org = membership.organization


class OrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Lazy: respondent pages and API-key requests never pay for the lookup.
        request.membership = SimpleLazyObject(lambda: active_membership(request))
        request.org = SimpleLazyObject(
            lambda: request.membership.organization if request.membership else None
        )
        try:
            return self.get_response(request)
        finally:
            # A thread serves many requests: the next one must not inherit this zone.
            timezone.deactivate()


def org_member_required(role: str = Role.VIEWER) -> Callable:
    """Decorator: the user is logged in, belongs to an organization, and has ``role``."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = request.membership
            if not membership:
                return render(request, "cxplatform/no_organization.html", status=403)
            if not membership.can(role):
                raise PermissionDenied(f"This needs the {Role(role).label} role.")
            # From here on the view sees plain model instances, not lazy proxies.
            request.membership = getattr(membership, "_wrapped", membership)
            request.org = request.membership.organization
            timezone.activate(request.org.zone)
            return view(request, *args, **kwargs)

        wrapper.required_role = role  # read by the tenant-isolation test
        return wrapper

    return decorator


def require_role(request: HttpRequest, role: str) -> None:
    """Raise 403 unless the current member has ``role`` (for views readable by all)."""
    if not request.membership or not request.membership.can(role):
        raise PermissionDenied(f"This needs the {Role(role).label} role.")
