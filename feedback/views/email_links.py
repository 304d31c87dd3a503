"""The links in a survey email besides the survey itself: unsubscribe and the open pixel.

``/u/<token>/``: the GET shows a confirmation and changes nothing (mail scanners and link
previews fetch every link); the POST records the unsubscribe, at once, for every campaign.
The POST is also the mail client's RFC 8058 one-click request (``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``), which carries no CSRF token: the unguessable token is the
credential, so the view is ``csrf_exempt`` (as are the respondent pages).

``/o/<token>.gif``: a 1×1 GIF that sets ``opened_at`` once. The only GET here that writes,
and it can only ever record that first open; a HEAD gets the same answer and records
nothing.
"""

from __future__ import annotations

import base64

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from feedback.selectors import responses as response_selectors
from feedback.services import contacts, respondent, tracking

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _personal(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(
    request: HttpRequest, template: str, context: dict, *, lang: str, status: int = 200
) -> HttpResponse:
    """Render in the contact's language (as the survey pages do), never cached."""
    with translation.override(lang):
        response = render(request, template, {"lang": lang, **context}, status=status)
    response["Content-Language"] = lang
    return _personal(response)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    invitation = response_selectors.invitation_by_token(token)
    if invitation is None:
        return _page(
            request,
            "respondent/unsubscribe_unknown.html",
            {},
            lang=translation.get_language(),
            status=404,
        )
    lang = respondent.locale_for(invitation)
    org = invitation.organization
    contact = invitation.contact
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        contacts.contact_unsubscribe(
            invitation=invitation, source="one-click" if one_click else "link"
        )
        return _page(
            request,
            "respondent/unsubscribe_done.html",
            {"org": org, "contact": contact},
            lang=lang,
        )
    context = {
        "org": org,
        "contact": contact,
        "already": contact.unsubscribed_at is not None,
        "masked_email": _mask(contact.email),
    }
    return _page(request, "respondent/unsubscribe.html", context, lang=lang)


def _mask(email: str) -> str:
    """a•••@example.com: enough for the person to recognise, little for anyone else."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    # A HEAD is a link checker or a scanner, never a mail client showing the image.
    if request.method == "GET":
        tracking.invitation_opened(token=token)
    response = HttpResponse(PIXEL, content_type="image/gif")
    return _personal(response)


urlpatterns = [
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
    path("o/<str:token>.gif", open_pixel, name="open_pixel"),
]
