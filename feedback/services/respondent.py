"""The respondent's side: what a survey link shows, in which language, and saving answers.

A link is ``/s/<token>/``; the email's one-click links are ``/s/<token>/<score>/``. A GET
never changes anything (mail scanners and link previews fetch every link): the one-click
page opens with the score chosen and the page POSTs it at once (or the person confirms
without JavaScript). Saving goes through ``responses.response_record`` like every other
channel.

Automated-looking POSTs are recorded but flagged (``Response.flagged_automated``) and so
kept out of the metrics (``Response.objects.counted()``):

- a known scanner or bot user agent (``SCANNER_AGENTS``): a sticky flag;
- a POST less than ``TOO_FAST`` after the email was sent (no person opens, reads and
  clicks that fast);
- several different one-click scores for one link within ``RAPID_SCORES`` (a scanner
  following the eleven score links of an NPS email).

A timing flag is cleared when the survey is later completed with Send by a browser that
is not a known scanner: a person finishing the page is the strongest sign of a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cxplatform.models import Organization
from feedback.models import (
    Answer,
    Invitation,
    InvitationChannel,
    Question,
    Response,
    ResponseChannel,
    Survey,
    SurveyStatus,
)
from feedback.services import responses
from feedback.services.responses import AnswerValue, Recorded

# Lower-case fragments of user agents that belong to mail security scanners, link
# previewers and scripts, not to a person's browser.
SCANNER_AGENTS = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "safelinks",
    "symantec",
    "messagelabs",
    "forcepoint",
    "trend micro",
    "sophos",
    "fortinet",
    "cisco ironport",
    "ironport",
    "googleimageproxy",
    "yahoomailproxy",
    "outlook-ios-linkpreview",
    "skypeuripreview",
    "slackbot",
    "facebookexternalhit",
    "linkedinbot",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "httpx",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww-perl",
    "wget",
    "curl",
    "scrapy",
    "preview",
    "scanner",
    "spider",
    "crawler",
    "bot",
)
_SCANNER_RE = re.compile("|".join(re.escape(agent) for agent in SCANNER_AGENTS))
TOO_FAST = timedelta(seconds=2)
RAPID_SCORES = timedelta(seconds=5)


class LinkState(models.TextChoices):
    """Where a respondent's link stands (the page shown, the JSON ``state``)."""

    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    EXPIRED = "expired", "Expired"
    UNKNOWN = "unknown", "No such link"


class LinkClosed(Exception):  # noqa: N818 - a state, not an error of the caller
    """The link cannot take answers: ``state`` is LinkState.EXPIRED or ANSWERED."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(state)
        self.state = state


def scanner_agent(user_agent: str) -> str:
    """The scanner fragment found in ``user_agent`` ('' for a person's browser)."""
    if not user_agent:
        return "empty user agent"
    match = _SCANNER_RE.search(user_agent.lower())
    return match.group(0) if match else ""


def is_expired(invitation: Invitation, now: datetime | None = None) -> bool:
    return (
        invitation.link_expired(now or timezone.now())
        or invitation.survey.status == SurveyStatus.ARCHIVED
    )


def link_state(invitation: Invitation, response: Response | None) -> LinkState:
    """ANSWERED (a completed response), EXPIRED, or OPEN."""
    if response is not None and response.completed:
        return LinkState.ANSWERED
    if is_expired(invitation):
        return LinkState.EXPIRED
    return LinkState.OPEN


# ---------------------------------------------------------------------------- language


def survey_locales(survey: Survey) -> list[str]:
    return [survey.default_locale, *[k for k in (survey.translations or {}) if k]]


def locale_for(invitation: Invitation) -> str:
    """The contact's language when the survey has it, else the survey's default."""
    survey = invitation.survey
    wanted = (invitation.contact.locale or "").replace("_", "-").lower()
    supported = {code for code, _ in settings.LANGUAGES}
    available = [code for code in survey_locales(survey) if code in supported]
    for candidate in (wanted, wanted.split("-")[0]):
        if candidate and candidate in available:
            return candidate
    return survey.default_locale if survey.default_locale in supported else settings.LANGUAGE_CODE


@dataclass
class ShownQuestion:
    """A question as the respondent sees it, in their language."""

    question: Question
    text: str
    help_text: str
    low_label: str
    high_label: str
    choices: list[tuple[str, str]]  # (value: the canonical choice, label: translated)
    scale: list[int]
    # Filled by the page: the current value, the chosen choices, errors, score category.
    value: Any = None
    selected: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    category: str = ""

    @property
    def pk(self) -> int:
        return self.question.pk

    @property
    def type(self) -> str:
        return self.question.type

    @property
    def name(self) -> str:
        return f"q{self.question.pk}"


def shown_question(question: Question, locale: str) -> ShownQuestion:
    from feedback.scoring import SCALES

    texts = (question.translations or {}).get(locale) or {}
    translated_choices = texts.get("choices") or []
    choices = [
        (choice, str(translated_choices[i]) if i < len(translated_choices) else choice)
        for i, choice in enumerate(question.choices or [])
    ]
    low, high = SCALES.get(question.type, (0, -1))
    return ShownQuestion(
        question=question,
        text=texts.get("text") or question.text,
        help_text=texts.get("help_text") or question.help_text,
        low_label=texts.get("low_label") or question.low_label,
        high_label=texts.get("high_label") or question.high_label,
        choices=choices,
        scale=list(range(low, high + 1)),
    )


def survey_texts(survey: Survey, locale: str) -> dict[str, str]:
    texts = (survey.translations or {}).get(locale) or {}
    return {
        "title": texts.get("title") or survey.title or survey.name,
        "intro": texts.get("intro") or survey.intro,
        "thank_you": texts.get("thank_you") or survey.thank_you,
    }


def values_of(answers: list[Answer] | dict[int, Answer]) -> dict[int, Any]:
    """Saved answers as the form's initial values: {question id: score | text | [choices]}."""
    items = answers.values() if isinstance(answers, dict) else answers
    values: dict[int, Any] = {}
    for answer in items:
        if answer.value_number is not None:
            values[answer.question_id] = answer.value_number
        elif answer.value_choices:
            values[answer.question_id] = list(answer.value_choices)
        else:
            values[answer.question_id] = answer.value_text
    return values


def values_posted(questions: list[Question], raw: dict[int, Any]) -> dict[int, Any]:
    """The posted answers as the form shows them again (its error state): a valid value in
    its canonical form (the score as a number, the choice as the survey writes it), an
    invalid one as typed, to sit next to its message. Empty answers are left out."""
    values: dict[int, Any] = {}
    for question in questions:
        value = raw.get(question.pk)
        if value in (None, "", []):
            continue
        try:
            cleaned = responses.answer_clean(question, value)
        except ValidationError:
            values[question.pk] = value
            continue
        if cleaned.number is not None:
            values[question.pk] = cleaned.number
        elif cleaned.choices:
            values[question.pk] = list(cleaned.choices)
        elif cleaned.text:
            values[question.pk] = cleaned.text
    return values


# ---------------------------------------------------------------------------- saving


def _flag_rule(
    *,
    invitation: Invitation,
    user_agent: str,
    oneclick: bool,
    final: bool,
    primary: Question | None,
    answers: dict[int, AnswerValue],
    now: datetime,
) -> responses.FlagRule:
    def rule(response: Response | None, existing: dict[int, Answer]) -> tuple[bool | None, str]:
        agent = scanner_agent(user_agent)
        if agent:
            return True, f"scanner user agent ({agent})"
        if invitation.sent_at is not None and now - invitation.sent_at < TOO_FAST:
            elapsed = int((now - invitation.sent_at).total_seconds() * 1000)
            return True, f"posted {elapsed} ms after the email was sent"
        if oneclick and primary is not None and response is not None:
            previous = existing.get(primary.pk)
            new = answers.get(primary.pk)
            if (
                previous is not None
                and new is not None
                and previous.value_number != new.number
                and now - previous.answered_at < RAPID_SCORES
            ):
                return True, (
                    f"several scores within {RAPID_SCORES.seconds} s "
                    f"({previous.value_number} then {new.number})"
                )
        if final:
            return False, ""
        return None, ""

    return rule


def answer_save(
    *,
    invitation: Invitation,
    questions: list[Question],
    raw: dict[int, Any],
    final: bool,
    oneclick: bool = False,
    user_agent: str = "",
    locale: str = "",
) -> tuple[Recorded | None, dict[str, list[str]]]:
    """Save the respondent's answers in ``raw`` ({question id: raw value}).

    ``final`` (Send): every required question must be answered, and the response is
    completed. Otherwise (one answer as they go, or the one-click score) only the answers
    given are saved. The valid answers are saved even when others are invalid, so nothing
    typed is lost; the errors come back by question id for the form. Raises LinkClosed
    for an expired link. Safe under any concurrency (see ``responses.response_record``).
    """
    now = timezone.now()
    if is_expired(invitation, now):
        raise LinkClosed(LinkState.EXPIRED)
    cleaned, errors = responses.answers_validate(questions, raw, require=final)
    if not cleaned and errors:
        return None, errors
    primary = next((q for q in questions if q.is_primary), None)
    recorded = responses.response_record(
        responses.ResponseInput(
            # Only the id is used: the page's query need not join the organization.
            org=Organization(pk=invitation.organization_id),
            survey=invitation.survey,
            questions=questions,
            answers=cleaned,
            channel=(
                ResponseChannel.EMAIL
                if invitation.channel == InvitationChannel.EMAIL and invitation.sent_at
                else ResponseChannel.WEB
            ),
            complete=final and not errors,
            invitation=invitation,
            locale=locale,
            user_agent=user_agent,
            flag_rule=_flag_rule(
                invitation=invitation,
                user_agent=user_agent,
                oneclick=oneclick,
                final=final and not errors,
                primary=primary,
                answers=cleaned,
                now=now,
            ),
        )
    )
    return recorded, errors
