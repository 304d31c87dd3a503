"""The respondent's link token, which names its organization.

A respondent arrives with a token and nothing else; the token says which organization
it belongs to, so the invitation is then read within that organization (on a database
distributed by organization, from its shard alone) through the unique index
``(organization, token)``. Format: ``<organization id>.<43 URL-safe characters>``
(256 random bits); ``.`` is URL-safe and never appears in the random part.

Tokens made before this format (no ``.``) name no organization: ``organization_id``
is None for them, and a lookup has to search every organization for them (they stop
mattering once their links have expired: ``Campaign.link_expiry_days``, at most
``invitations.MAX_EXPIRY_DAYS``).
"""

from __future__ import annotations

import secrets
from typing import Any

SEPARATOR = "."
# The largest id a row can have (BigAutoField): 19 digits.
_MAX_ID_DIGITS = 19


def new(organization_id: int) -> str:
    """A new unguessable token of the organization ``organization_id``."""
    return f"{organization_id}{SEPARATOR}{secrets.token_urlsafe(32)}"


def organization_id(token: str) -> int | None:
    """The organization the token names, or None (an older token, or not a token)."""
    head, separator, secret = token.partition(SEPARATOR)
    if not separator or not secret:
        return None
    if not (head.isascii() and head.isdigit()) or len(head) > _MAX_ID_DIGITS:
        return None
    return int(head)


def lookup(token: str) -> dict[str, Any]:
    """The filter that finds the invitation of ``token`` within its organization
    (``Invitation.objects.filter(**tokens.lookup(token))``): the unique index
    ``(organization, token)`` serves it. An older token has only itself to go by."""
    org_id = organization_id(token)
    return {"token": token} if org_id is None else {"organization_id": org_id, "token": token}
