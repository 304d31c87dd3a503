"""Answers flagged as automated (a scanner's agent, several scores within seconds): the
one place a person overrules the flag.

What counts is defined once, on the queryset (``Response.objects.counted()`` and
``feedback.models.responses.counted_q``): completed and not flagged. Every figure reads
it, and the flagged are shown apart (``flagged()`` / ``flagged_q``).
"""

from __future__ import annotations

from django.db import transaction

from cxplatform.services import Actor, audit
from feedback.models import Response
from feedback.services import pipeline


@transaction.atomic
def response_mark_genuine(*, response: Response, actor: Actor) -> Response:
    """A staff member says a flagged answer came from a person: it is no longer flagged,
    so it counts in every figure from now on; an audit row records who and the reason
    the flag had. Safe to repeat: an answer not flagged is left as it is (no audit row)."""
    current = Response.objects.select_for_update().get(pk=response.pk)
    if not current.flagged_automated:
        return current
    reason = current.flag_reason
    Response.objects.filter(pk=current.pk).update(flagged_automated=False, flag_reason="")
    audit(
        org=current.organization,
        actor=actor,
        action="response.marked_genuine",
        obj=current,
        changes={"flagged_automated": [True, False], "flag_reason": [reason, ""]},
    )
    current.refresh_from_db()
    # It counts now: what follows an answer that counts (rollups, rules) runs for it.
    pipeline.response_changed(current)
    return current
