"""A typed request for staff views: after OrganizationMiddleware and login_required."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails

    from cxplatform.models import Membership, Organization


class AuthedRequest(HttpRequest):
    user: User
    org: Organization
    membership: Membership
    htmx: HtmxDetails
