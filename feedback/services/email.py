"""Rendering of the survey emails: subject, plain text and HTML (CSS inlined), headers.

The layout of a campaign's email (everything but the contact's own details and the
invitation token) is the same for every recipient, so it is rendered from the Django
templates and CSS-inlined once per campaign and cached in the process; each message is
then that layout with the per-invitation values substituted. That keeps a worker at
thousands of messages per second while the templates stay ordinary Django templates.

Placeholders in a campaign's subject and body are a fixed, safe set (never a template
engine a staff member could program): ``{{ contact.first_name }}``, ``{{ contact.name }}``,
``{{ contact.email }}``, ``{{ contact.company }}``, ``{{ company }}`` (the sender, i.e.
the organization), ``{{ touchpoint }}`` and ``{{ survey }}``.
"""

from __future__ import annotations

import binascii
import functools
import re
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from feedback import scoring
from feedback.models import Campaign, Contact, Invitation, Question, Survey
from feedback.services import respondent

PLACEHOLDERS = {
    "contact.first_name": "The contact's first name (left out when unknown: "
    "“Hi {{ contact.first_name }},” greets “Hello,”)",
    "contact.name": "The contact's full name",
    "contact.email": "The contact's email address",
    "contact.company": "The contact's company",
    "company": "Your organization's name (the sender)",
    "touchpoint": "The touchpoint asked about",
    "survey": "The survey's title",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")

DEFAULT_SUBJECT = Campaign._meta.get_field("subject").default
DEFAULT_BODY = Campaign._meta.get_field("body").default

# Markers the cached layout carries in place of per-invitation values. Chosen to survive
# HTML rendering and CSS inlining untouched (no characters that get escaped).
_MARK_LINK_KEY = "cxmarkTOKENcxmark"
_MARK_BODY_HTML = "cxmarkBODYHTMLcxmark"
_MARK_BODY_TEXT = "cxmarkBODYTEXTcxmark"
_MARK_EXPIRES = "cxmarkEXPIREScxmark"

_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in ``text`` that are not in PLACEHOLDERS (for form validation)."""
    return sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))


# A name placeholder whose contact has no name is left out with its comma, so
# "{{ contact.first_name }}, how was it?" reads "How was it?" and "Thanks, {{ … }}!" reads
# "Thanks!". Guessing a name from the email ("info", "j.smith42") reads worse than none.
_NAMES = ("contact.first_name", "contact.name")
_GREETING = re.compile(r"^(?:Hi|Hey|Dear|Hello)(?=,)", re.MULTILINE)


def _without_name(text: str, name: str) -> str:
    placeholder = r"\{\{\s*" + re.escape(name) + r"\s*\}\}"
    text = re.sub(
        r"^" + placeholder + r"[ \t]*,?[ \t]*(\w?)",
        lambda m: m.group(1).upper(),
        text,
        flags=re.MULTILINE,
    )
    text = re.sub(r"[ \t]*,[ \t]*" + placeholder + r"[ \t]*,", "", text)  # ", Ann," aside
    return re.sub(r"[ \t]*,?[ \t]*" + placeholder, "", text)


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known placeholders; unknown ones are left as written. An empty name
    is left out with its comma, and the greeting it leaves ("Hi,") becomes "Hello,"."""
    for name in _NAMES:
        if name in values and not values[name] and _PLACEHOLDER.search(text):
            before = text
            text = _without_name(text, name)
            if text != before:
                text = _GREETING.sub("Hello", text)
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def first_name(contact: Contact) -> str:
    """The first word of the contact's name; empty when the name is unknown."""
    name = contact.name.strip()
    return name.split()[0] if name else ""


def _local(moment: datetime, contact: Contact, org: Any) -> datetime:
    """``moment`` in the contact's time zone (the day they read), else the organization's."""
    try:
        zone = zoneinfo.ZoneInfo(contact.time_zone) if contact.time_zone else org.zone
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = org.zone
    return moment.astimezone(zone)


def sender_name(org: Any) -> str:
    return org.sender_name or org.name


def placeholder_values(
    *, contact: Contact, org: Any, touchpoint: Any = None, survey: Survey | None = None
) -> dict[str, str]:
    return {
        "contact.first_name": first_name(contact),
        "contact.name": contact.name.strip(),
        "contact.email": contact.email,
        "contact.company": contact.company,
        "company": sender_name(org),
        "touchpoint": touchpoint.name if touchpoint is not None else "your recent experience",
        "survey": (survey.title or survey.name) if survey is not None else "",
    }


def body_html(text: str) -> str:
    """Plain text with blank-line paragraphs as HTML paragraphs (escaped)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        '<p style="margin:0 0 16px 0">' + escape(p).replace("\n", "<br>") + "</p>"
        for p in paragraphs
    )


@functools.lru_cache(maxsize=256)
def from_header(name: str, default_from: str) -> str:
    """The organization's name on the platform's sending address."""
    return formataddr((name, parseaddr(default_from)[1] or default_from))


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def message_id(invitation: Invitation, *, reminder: int = 0) -> str:
    """Stable per invitation (and per reminder): a resend after a crash carries the same
    Message-ID, so receiving systems (and the tests) can tell a duplicate."""
    suffix = f".r{reminder}" if reminder else ""
    return f"<invitation-{invitation.pk}.{invitation.token[:8]}{suffix}@{site_domain()}>"


def respondent_urls(token: str) -> dict[str, str]:
    base = settings.SITE_URL
    return {
        "survey_url": f"{base}/s/{token}/",
        "unsubscribe_url": f"{base}/u/{token}/",
        "pixel_url": f"{base}/o/{token}.gif",
    }


@dataclass(frozen=True)
class LayoutKey:
    """What the cached layout depends on (everything shared by a campaign's recipients)."""

    org_name: str
    survey_title: str
    question_text: str
    question_type: str
    low_label: str
    high_label: str
    touchpoint: str
    reminder: bool
    site_url: str
    lang: str = "en"


@dataclass(frozen=True)
class Layout:
    html: str
    text: str


# A phone's email pane is about 340 px wide: six 44 px targets fit on a row, eleven do not.
SCORES_PER_ROW = 6


def score_groups(scores: list[Any]) -> list[list[Any]]:
    """The scale in at most two halves (0–5 and 6–10 for NPS), which a phone shows as two
    rows and a wider screen as one."""
    if len(scores) <= SCORES_PER_ROW:
        return [scores] if scores else []
    half = (len(scores) + 1) // 2
    return [scores[:half], scores[half:]]


@functools.lru_cache(maxsize=256)
def _layout(key: LayoutKey) -> Layout:
    bounds = scoring.scale(key.question_type)
    scores = list(range(bounds[0], bounds[1] + 1)) if bounds else []
    urls = respondent_urls(_MARK_LINK_KEY)
    context = {
        "org_name": key.org_name,
        "survey_title": key.survey_title,
        "question_text": key.question_text,
        "question_type": key.question_type,
        "low_label": key.low_label,
        "high_label": key.high_label,
        "touchpoint": key.touchpoint,
        "reminder": key.reminder,
        "scores": [{"value": s, "url": f"{urls['survey_url']}{s}/"} for s in scores],
        "score_groups": score_groups(
            [{"value": s, "url": f"{urls['survey_url']}{s}/"} for s in scores]
        ),
        "body_html": _MARK_BODY_HTML,
        "body_text": _MARK_BODY_TEXT,
        "expires": _MARK_EXPIRES,
        **urls,
    }
    name = "email/reminder" if key.reminder else "email/invitation"
    with translation.override(key.lang):
        html = _INLINER.inline(render_to_string(f"{name}.html", {"lang": key.lang, **context}))
        text = render_to_string(f"{name}.txt", context)
    return Layout(html=html, text=text)


def _translated(obj: Any, lang: str, field: str) -> str:
    """``obj.field`` in ``lang`` from its ``translations`` JSON, else as written."""
    value = ((obj.translations or {}).get(lang) or {}).get(field)
    return value if isinstance(value, str) and value.strip() else getattr(obj, field)


def primary_question(survey: Survey) -> Question | None:
    """The survey's live primary question (uses a prefetch when the caller made one)."""
    cache = getattr(survey, "_cx_primary", None)
    if cache is None:
        cache = survey.questions.filter(is_primary=True, archived_at__isnull=True).first() or False
        survey._cx_primary = cache
    return cache or None


def _qp(text: str) -> bytes:
    """Quoted-printable body, CRLF line ends (binascii's C encoder: fast)."""
    normal = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(normal, istext=True).replace(b"\n", b"\r\n")


def _header(value: str, *, address: bool = False) -> str:
    """A header value safe to send: one line, RFC 2047-encoded when not ASCII."""
    value = " ".join(str(value).split())
    if value.isascii():
        return value
    if address:
        name, addr = parseaddr(value)
        return formataddr((name, addr), charset="utf-8")
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    to: str
    from_email: str

    def as_bytes(self) -> bytes:
        """The message as RFC 5322 bytes (CRLF line ends), multipart/alternative with
        quoted-printable UTF-8 parts: what Django's EmailMultiAlternatives produces, built
        directly, because the email package's generator costs milliseconds per message
        and a campaign sends hundreds per second. Header values are encoded (RFC 2047)
        when not ASCII; the recipient is the bare address."""
        boundary = f"=_cx_{secrets.token_hex(12)}"
        lines = [
            f"From: {_header(self.from_email, address=True)}",
            f"To: {self.to}",
            f"Subject: {_header(self.subject)}",
            f"Date: {formatdate(usegmt=True)}",
            *(f"{name}: {_header(value)}" for name, value in self.headers.items()),
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
            f"--{boundary}",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
            "",
        ]
        head = "\r\n".join(lines).encode("ascii") + b"\r\n"
        html_head = (
            f"\r\n--{boundary}\r\n"
            'Content-Type: text/html; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        ).encode("ascii")
        return b"".join(
            [
                head,
                _qp(self.text),
                html_head,
                _qp(self.html),
                f"\r\n--{boundary}--\r\n".encode("ascii"),
            ]
        )

    def message(self) -> EmailMultiAlternatives:
        msg = EmailMultiAlternatives(
            subject=self.subject,
            body=self.text,
            from_email=self.from_email,
            to=[self.to],
            headers=self.headers,
        )
        msg.attach_alternative(self.html, "text/html")
        return msg


def render_invitation(
    invitation: Invitation,
    *,
    reminder: int = 0,
    questions: dict[int, Question | None] | None = None,
) -> Rendered:
    """The email for ``invitation`` (its ``reminder``-th reminder when > 0).

    Needs ``contact``, ``survey``, ``organization``, ``campaign`` and ``touchpoint``
    loaded (select_related) for speed; ``questions`` maps survey id to its primary
    question so a batch asks for each survey's question once.
    """
    contact, org, campaign = invitation.contact, invitation.organization, invitation.campaign
    survey = invitation.survey
    touchpoint = invitation.touchpoint or (campaign.touchpoint if campaign else None)
    if questions is not None and survey.pk in questions:
        question = questions[survey.pk]
    else:
        question = primary_question(survey)
    lang = respondent.locale_for(invitation)
    key = LayoutKey(
        org_name=sender_name(org),
        survey_title=_translated(survey, lang, "title") or survey.name,
        question_text=_translated(question, lang, "text") if question else "",
        question_type=question.type if question else "",
        low_label=_translated(question, lang, "low_label") if question else "",
        high_label=_translated(question, lang, "high_label") if question else "",
        touchpoint=touchpoint.name if touchpoint is not None else "",
        reminder=bool(reminder),
        site_url=settings.SITE_URL,
        lang=lang,
    )
    layout = _layout(key)
    values = placeholder_values(contact=contact, org=org, touchpoint=touchpoint, survey=survey)
    subject = fill(campaign.subject if campaign else DEFAULT_SUBJECT, values)
    subject = " ".join(subject.split())  # no newlines in a header
    body = fill(campaign.body if campaign else DEFAULT_BODY, values)
    with translation.override(lang):
        if reminder:
            subject = _("Reminder: %(subject)s") % {"subject": subject}
        expires = (
            _("The link works until %(date)s.")
            % {
                "date": formats.date_format(
                    _local(invitation.expires_at, contact, org), "DATE_FORMAT"
                )
            }
            if invitation.expires_at is not None
            else ""
        )
    token = invitation.token
    html = (
        layout.html.replace(_MARK_LINK_KEY, token)
        .replace(_MARK_BODY_HTML, body_html(body))
        .replace(_MARK_EXPIRES, escape(expires))
    )
    text = (
        layout.text.replace(_MARK_LINK_KEY, token)
        .replace(_MARK_BODY_TEXT, body)
        .replace(_MARK_EXPIRES, expires)
    )
    unsubscribe = respondent_urls(token)["unsubscribe_url"]
    headers = {
        "Message-ID": message_id(invitation, reminder=reminder),
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-CX-Invitation": str(invitation.pk),
    }
    return Rendered(
        subject=subject,
        text=text,
        html=html,
        headers=headers,
        to=contact.email,
        from_email=from_header(sender_name(org), settings.DEFAULT_FROM_EMAIL),
    )
