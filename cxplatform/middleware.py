"""htmx responses carry the pending messages out-of-band, so toasts appear after a
partial swap as they do after a full page load."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


class HtmxMessagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or getattr(request.htmx, "boosted", False):
            return response
        if response.streaming or 300 <= response.status_code < 400 or "HX-Redirect" in response:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        storage = get_messages(request)
        if not len(storage):
            return response
        response.write(
            render_to_string("includes/messages.html", {"messages": storage, "oob": True}, request)
        )
        return response
