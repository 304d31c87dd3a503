"""The demo mailbox: an email backend that stores messages in the database.

Used when EMAIL_URL is unset, so the embedded demo can "send" surveys and the demo user
can read them at /mailbox/ and follow their links.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.urls import Resolver404, resolve

from cxplatform.models import MailboxMessage

# Shown inside the mailbox's iframe: links leave the frame as from a mail client, images
# and tables shrink to a phone's width as mail apps make them.
_MAILBOX_HEAD = (
    '<base target="_top">'
    "<style>"
    "html, body { margin: 0; max-width: 100%; overflow-wrap: anywhere; }"
    "img { max-width: 100%; height: auto; }"
    "table { max-width: 100%; }"
    "</style>"
)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\bsrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_SIZE = re.compile(r"""\b(width|height)\s*=\s*["']?\s*([01])(?:px)?\s*["'\s>/]""", re.IGNORECASE)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_HTML = re.compile(r"<html\b[^>]*>", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>", re.IGNORECASE)


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        rows = []
        for message in email_messages:
            html = ""
            for alternative in getattr(message, "alternatives", []):
                content, mimetype = alternative[0], alternative[1]
                if mimetype == "text/html":
                    html = content
            headers = {str(k): str(v) for k, v in message.extra_headers.items()}
            rows.append(
                MailboxMessage(
                    sender=message.from_email,
                    recipients=", ".join(message.to + message.cc + message.bcc),
                    subject=message.subject,
                    text_body=message.body if message.content_subtype == "plain" else "",
                    html_body=html or (message.body if message.content_subtype == "html" else ""),
                    headers=headers,
                    message_id=headers.get("Message-ID", ""),
                )
            )
        MailboxMessage.objects.bulk_create(rows)
        return len(rows)


def is_tracking_pixel(tag: str) -> bool:
    """An ``<img>`` tag that reports an open: our own open pixel (``/o/<token>.gif``,
    found by resolving its path), or any 1×1 image, the usual shape of a tracker."""
    sizes = {name.lower() for name, _ in _SIZE.findall(tag)}
    if {"width", "height"} <= sizes:
        return True
    match = _SRC.search(tag)
    if not match:
        return False
    path = urlsplit(next(g for g in match.groups() if g is not None).strip()).path
    try:
        return resolve(path).url_name == "open_pixel"
    except Resolver404:
        return False


def mailbox_html(html: str) -> str:
    """The HTML part of a message as the demo mailbox shows it.

    Tracking pixels are removed: the staff member reading the demo mailbox is not the
    customer, and their browser fetching the pixel would mark the invitation opened.
    The head gets the mailbox's base target and small-screen styles; they go inside the
    document (after its doctype) so the email keeps rendering in standards mode.
    """
    html = _IMG.sub(lambda m: "" if is_tracking_pixel(m.group(0)) else m.group(0), html)
    if head := _HEAD.search(html):
        return html[: head.end()] + _MAILBOX_HEAD + html[head.end() :]
    if top := _HTML.search(html) or _DOCTYPE.search(html):
        return html[: top.end()] + _MAILBOX_HEAD + html[top.end() :]
    return _MAILBOX_HEAD + html
