from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cxplatform import selectors


def tenancy(request: HttpRequest) -> dict[str, Any]:
    """The active membership and, for the switcher, the user's other organizations."""
    membership = getattr(request, "membership", None)
    if not membership:
        return {}
    from django.conf import settings

    return {
        "mailbox_enabled": settings.MAILERS["default"]["BACKEND"]
        == "cxplatform.mail.MailboxBackend",
        "membership": membership,
        "current_org": membership.organization,
        "user_memberships": lambda: list(selectors.memberships_of(user=request.user)),
    }
