"""Recording responses: the one service every channel goes through.

The respondent page (``feedback.services.respondent``), the API's POST and anything
else that records an answer call ``response_record``. It guarantees:

- **One response per invitation**, whatever the concurrency: the row is created inside
  a savepoint and the OneToOne constraint on ``Response.invitation`` decides the race;
  the losers lock the winner's row (``SELECT … FOR UPDATE``) and add their answers to
  it. Never check-then-insert. The same holds for ``external_ref`` (API idempotency).
- **Answers are validated by the question's own rules** (``answer_clean``): scales from
  ``feedback.scoring``, the question's choices, a length limit for text. Invalid input is a
  ``ValidationError`` keyed by question id, never a 500.
- **Partial answers are kept**: each call upserts the answers it carries (one answer per
  question, a constraint) and leaves the others alone.
- **Completion**: a response becomes ``completed`` (with ``submitted_at``) when the
  caller says so (the respondent pressed Send; the API always does). A response that has
  its primary score but was abandoned before Send is completed by the sweep
  (``responses_complete_abandoned``) after ``CX_PARTIAL_COMPLETE_AFTER`` of inactivity: a
  one-click score is a real answer and counts, but the respondent gets the time to
  finish first, and the after-response work runs once, on completion.
- **The after-response pipeline**: the transaction (or single statement) that completes a
  response also writes its pipeline rows (``feedback/pipeline.py``: sentiment, loop
  rules, rollups, points, webhooks); after commit the workers are nudged (debounced).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from cxplatform.models import Organization
from cxplatform.services import Actor, audit
from feedback.models import (
    Answer,
    Invitation,
    InvitationStatus,
    PipelineStep,
    Question,
    Response,
    ResponseChannel,
    Survey,
    SurveyStatus,
)
from feedback.scoring import SCALES, QuestionType, category_for, in_range
from feedback.services import pipeline

TEXT_MAX = 5000
_INT_RE = re.compile(r"^\s*-?[0-9]{1,6}\s*$", re.ASCII)


@dataclass(frozen=True)
class AnswerValue:
    """A validated answer: a score, a text, or a list of choices (empty: no answer)."""

    number: int | None = None
    text: str = ""
    choices: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.number is None and not self.text and not self.choices


EMPTY = AnswerValue()


def answer_clean(question: Question, raw: Any) -> AnswerValue:
    """Validate one raw value (a form string, a list of strings, or JSON) for ``question``.

    Empty input gives ``EMPTY``; whether an answer is required is the caller's rule.
    Messages are in the active language (the respondent's).
    """
    if raw is None or raw == "" or raw == []:
        return EMPTY
    qtype = question.type
    if qtype in SCALES:
        low, high = SCALES[qtype]
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not _INT_RE.match(str(raw)):
            raise ValidationError(
                gettext("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high}
            )
        score = int(raw)
        if not in_range(qtype, score):
            raise ValidationError(
                gettext("Choose a score from %(low)s to %(high)s.") % {"low": low, "high": high}
            )
        return AnswerValue(number=score)
    if qtype == QuestionType.SINGLE_CHOICE:
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        choice = _match_choice(question, raw)
        if choice is None:
            raise ValidationError(gettext("Choose one of the options."))
        return AnswerValue(choices=[choice])
    if qtype == QuestionType.MULTI_CHOICE:
        values = raw if isinstance(raw, list) else [raw]
        chosen = set()
        for value in values:
            choice = _match_choice(question, value)
            if choice is None:
                raise ValidationError(gettext("Choose among the options shown."))
            chosen.add(choice)
        return AnswerValue(choices=[c for c in question.choices if c in chosen])
    # free text
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, str):
        raise ValidationError(gettext("Write your answer as text."))
    text = raw.replace("\x00", "").strip()
    if len(text) > TEXT_MAX:
        raise ValidationError(
            gettext("Please keep it under %(max)s characters.") % {"max": f"{TEXT_MAX:,}"}
        )
    return AnswerValue(text=text) if text else EMPTY


def _match_choice(question: Question, raw: Any) -> str | None:
    """The canonical choice for ``raw``: its text in the survey's language or a
    translation, compared without case."""
    if not isinstance(raw, str):
        return None
    wanted = raw.strip().lower()
    for index, choice in enumerate(question.choices):
        if choice.lower() == wanted:
            return choice
        for texts in (question.translations or {}).values():
            translated = (texts or {}).get("choices") or []
            if index < len(translated) and str(translated[index]).lower() == wanted:
                return choice
    return None


def answers_clean(
    questions: Iterable[Question], raw: dict[int, Any], *, require: bool
) -> dict[int, AnswerValue]:
    """Validate the answers in ``raw`` ({question id: raw value}). With ``require``, a
    required question without an answer is an error too. Raises ValidationError with
    {str(question id): [message]}."""
    cleaned, errors = answers_validate(questions, raw, require=require)
    if errors:
        raise ValidationError(errors)
    return cleaned


def answers_validate(
    questions: Iterable[Question], raw: dict[int, Any], *, require: bool
) -> tuple[dict[int, AnswerValue], dict[str, list[str]]]:
    """Like ``answers_clean``, but returns the valid answers and the errors side by side,
    so a form with one bad answer still keeps the good ones."""
    cleaned: dict[int, AnswerValue] = {}
    errors: dict[str, list[str]] = {}
    for question in questions:
        if question.pk not in raw:
            if require and question.required:
                errors[str(question.pk)] = [gettext("Please answer this question.")]
            continue
        try:
            value = answer_clean(question, raw[question.pk])
        except ValidationError as exc:
            errors[str(question.pk)] = exc.messages
            continue
        if require and question.required and value.empty:
            errors[str(question.pk)] = [gettext("Please answer this question.")]
            continue
        cleaned[question.pk] = value
    return cleaned, errors


# ---------------------------------------------------------------------------- recording

# A flag decision from the caller: True flags (with a reason), False clears a timing
# flag, None leaves the flag alone. It sees the locked response (None when new) and its
# existing answers, so "several scores within seconds" is judged on committed state.
FlagRule = Callable[[Response | None, dict[int, Answer]], tuple[bool | None, str]]


@dataclass
class Recorded:
    response: Response
    created: bool
    completed_now: bool
    already_completed: bool = False


def _apply_answer(answer: Answer, question: Question, value: AnswerValue, now: datetime) -> None:
    answer.question_text = question.text[:500]
    answer.question_type = question.type
    answer.value_number = value.number
    answer.value_text = value.text
    answer.value_choices = list(value.choices)
    answer.answered_at = now


def _same(answer: Answer, value: AnswerValue) -> bool:
    return (
        answer.value_number == value.number
        and answer.value_text == value.text
        and list(answer.value_choices or []) == list(value.choices)
    )


def _summary(
    questions: list[Question], answers: dict[int, Answer]
) -> tuple[str, int | None, str, str]:
    """(primary type, primary score, its category, the comment) from the answers."""
    primary_type, score = "", None
    comments = []
    for question in questions:
        answer = answers.get(question.pk)
        if question.is_primary:
            primary_type = question.type
            score = answer.value_number if answer is not None else None
        if answer is not None and question.type == QuestionType.TEXT and answer.value_text:
            comments.append(answer.value_text)
    category = category_for(primary_type, score) if primary_type else ""
    return primary_type, score, category, "\n\n".join(comments)


@dataclass(frozen=True)
class ResponseInput:
    """Everything recording a response needs, the answers already validated
    (``answers_clean``). With an ``invitation``, contact, touchpoint, employee and campaign
    come from it; otherwise from the fields (touchpoint defaults to the survey's)."""

    org: Organization
    survey: Survey
    questions: list[Question]
    answers: dict[int, AnswerValue]
    channel: str
    complete: bool
    invitation: Invitation | None = None
    contact: Any = None
    touchpoint: Any = None
    employee: Any = None
    campaign: Any = None
    locale: str = ""
    user_agent: str = ""
    external_ref: str = ""
    submitted_at: datetime | None = None
    flag_rule: FlagRule | None = None


def response_record(data: ResponseInput, *, actor: Actor | None = None) -> Recorded:
    """Record ``data.answers`` for ``data.survey``.

    With an ``invitation``, at most one response exists for it however many requests
    race. With an ``external_ref``, a repeat returns the first response unchanged. Once a
    response is completed it is final: later calls change nothing (``already_completed``).
    """
    # The common case first: a new response. When the constraint says the response exists
    # (a repeat, or a concurrent request won the race), that attempt is rolled back and
    # the answers go into the existing row instead. On PostgreSQL outside a transaction
    # (the respondent page) the attempt is one statement and so its own transaction.
    try:
        if actor is None and connection.vendor == "postgresql" and connection.get_autocommit():
            recorded = _record_new(data, single_statement=True)
            _after_record(recorded, actor)  # on_commit runs at once: the row is committed
            return recorded
        with transaction.atomic():
            recorded = _record_new(data)
            _after_record(recorded, actor)
            return recorded
    except IntegrityError:
        if data.invitation is None and not data.external_ref:
            raise
    with transaction.atomic():
        recorded = _record_existing(data)
        _after_record(recorded, actor)
        return recorded


def _after_record(recorded: Recorded, actor: Actor | None) -> None:
    if recorded.created and actor is not None and (actor.user or actor.api_key):
        audit(
            org=recorded.response.organization,
            actor=actor,
            action="response.recorded",
            obj=recorded.response,
        )
    if recorded.completed_now:
        pipeline.nudge_after_commit()


def _record_new(data: ResponseInput, *, single_statement: bool = False) -> Recorded:
    org, survey, questions, invitation = data.org, data.survey, data.questions, data.invitation
    now = timezone.now()
    by_id = {q.pk: q for q in questions}
    # Ids, not rows: the invitation's relations need no query of their own.
    contact_id = _pk(data.contact)
    touchpoint_id, employee_id = _pk(data.touchpoint), _pk(data.employee)
    campaign_id = _pk(data.campaign)
    if invitation is not None:
        contact_id = invitation.contact_id
        touchpoint_id = touchpoint_id or invitation.touchpoint_id
        employee_id = employee_id or invitation.employee_id
        campaign_id = invitation.campaign_id
    touchpoint_id = touchpoint_id or survey.touchpoint_id

    # First try: a new response with these answers (the common case: one INSERT each).
    fresh: dict[int, Answer] = {}
    for qid, value in data.answers.items():
        if value.empty or qid not in by_id:
            continue
        answer = Answer(organization=org, question_id=qid)
        _apply_answer(answer, by_id[qid], value, now)
        fresh[qid] = answer
    primary_type, score, category, comment = _summary(questions, fresh)
    flagged, reason = data.flag_rule(None, {}) if data.flag_rule else (None, "")
    complete = data.complete
    response = Response(
        organization=org,
        invitation=invitation,
        survey=survey,
        contact_id=contact_id,
        campaign_id=campaign_id,
        touchpoint_id=touchpoint_id,
        employee_id=employee_id,
        channel=data.channel,
        external_ref=data.external_ref,
        primary_type=primary_type,
        primary_score=score,
        category=category,
        comment=comment,
        locale=data.locale,
        completed=complete,
        submitted_at=(data.submitted_at or now) if complete else None,
        flagged_automated=bool(flagged),
        flag_reason=reason[:200] if flagged else "",
        user_agent=data.user_agent[:300],
        started_at=now,
    )
    response.updated_at = now
    if single_statement:
        _insert_in_one_statement(response, list(fresh.values()), invitation, now)
        return Recorded(response, created=True, completed_now=complete)
    response.save(force_insert=True)
    for answer in fresh.values():
        answer.response = response
    Answer.objects.bulk_create(fresh.values())
    if complete:
        PipelineStep.objects.bulk_create(pipeline.pending_rows(response, now))
    if invitation is not None:
        _mark_invitation_responded(invitation, now)
    return Recorded(response, created=True, completed_now=complete)


def _columns(model: type, exclude: tuple[str, ...] = ()) -> list[Any]:
    return [
        f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in exclude
    ]


def _insert_in_one_statement(
    response: Response, answers: list[Answer], invitation: Invitation | None, now: datetime
) -> None:
    """PostgreSQL: the response, its answers, its pipeline rows (when complete) and the
    invitation's status in ONE statement (data-modifying CTEs), so a new response costs
    one round trip and, outside a transaction, one commit. A unique violation raises
    IntegrityError as the ORM would."""
    quote = connection.ops.quote_name
    params: list[Any] = []

    def values(instance: Any, fields: list[Any]) -> str:
        params.extend(f.get_db_prep_save(getattr(instance, f.attname), connection) for f in fields)
        return ", ".join(["%s"] * len(fields))

    response_fields = _columns(Response)
    sql = [
        # Only quoted table and column names of the models are formatted in; every value
        # is a %s parameter.
        f"WITH r AS (INSERT INTO {quote(Response._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in response_fields)}) "
        f"VALUES ({values(response, response_fields)}) RETURNING id)"
    ]
    if answers:
        answer_fields = _columns(Answer, exclude=("response_id",))
        rows = ", ".join(
            f"((SELECT id FROM r), {values(a, answer_fields)})"  # noqa: S608
            for a in answers
        )
        sql.append(
            f", a AS (INSERT INTO {quote(Answer._meta.db_table)} "  # noqa: S608
            f"({quote('response_id')}, {', '.join(quote(f.column) for f in answer_fields)}) "
            f"VALUES {rows})"
        )
    steps = pipeline.pending_rows(response, now) if response.completed else []
    if steps:
        step_fields = _columns(PipelineStep, exclude=("response_id",))
        rows = ", ".join(
            f"((SELECT id FROM r), {values(row, step_fields)})"  # noqa: S608
            for row in steps
        )
        sql.append(
            f", p AS (INSERT INTO {quote(PipelineStep._meta.db_table)} "  # noqa: S608
            f"({quote('response_id')}, {', '.join(quote(f.column) for f in step_fields)}) "
            f"VALUES {rows})"
        )
    if invitation is not None:
        sql.append(
            f", i AS (UPDATE {quote(Invitation._meta.db_table)} SET status = %s, "  # noqa: S608
            "responded_at = %s WHERE id = %s AND status <> %s)"
        )
        params.extend([InvitationStatus.RESPONDED, now, invitation.pk, InvitationStatus.RESPONDED])
    sql.append(" SELECT id FROM r")
    with connection.cursor() as cursor:
        cursor.execute("".join(sql), params)
        response.pk = cursor.fetchone()[0]
    response._state.adding = False
    response._state.db = connection.alias
    for answer in answers:
        answer.response = response


def _record_existing(data: ResponseInput) -> Recorded:
    """Add the answers to the response that exists, locked against concurrent saves."""
    invitation, external_ref, flag_rule = data.invitation, data.external_ref, data.flag_rule
    now = timezone.now()
    by_id = {q.pk: q for q in data.questions}
    existing_qs = Response.objects.select_for_update()
    if invitation is not None:
        existing_qs = existing_qs.filter(invitation=invitation)
    else:
        existing_qs = existing_qs.filter(organization=data.org, external_ref=external_ref)
    response = existing_qs.first()
    if response is None:
        raise IntegrityError("the response that blocked the insert is gone")
    if external_ref and invitation is None:
        return Recorded(response, created=False, completed_now=False, already_completed=True)
    if response.completed:
        return Recorded(response, created=False, completed_now=False, already_completed=True)
    existing = {a.question_id: a for a in response.answers.all()}
    flagged, reason = flag_rule(response, existing) if flag_rule else (None, "")
    to_create, to_update, to_delete = [], [], []
    for qid, value in data.answers.items():
        if qid not in by_id:
            continue
        answer = existing.get(qid)
        if value.empty:
            if answer is not None:
                to_delete.append(answer.pk)
                del existing[qid]
            continue
        if answer is None:
            answer = Answer(organization=response.organization, response=response, question_id=qid)
            _apply_answer(answer, by_id[qid], value, now)
            to_create.append(answer)
            existing[qid] = answer
        elif not _same(answer, value):
            _apply_answer(answer, by_id[qid], value, now)
            to_update.append(answer)
    if to_delete:
        Answer.objects.filter(pk__in=to_delete).delete()
    if to_create:
        Answer.objects.bulk_create(to_create)
    if to_update:
        Answer.objects.bulk_update(
            to_update,
            [
                "question_text",
                "question_type",
                "value_number",
                "value_text",
                "value_choices",
                "answered_at",
            ],
        )
    primary_type, score, category, comment = _summary(data.questions, existing)
    response.primary_type, response.primary_score = primary_type, score
    response.category, response.comment = category, comment
    if flagged is True:
        response.flagged_automated, response.flag_reason = True, reason[:200]
    elif flagged is False and response.flagged_automated and is_timing_flag(response.flag_reason):
        response.flagged_automated, response.flag_reason = False, ""
    completed_now = data.complete and not response.completed
    if completed_now:
        response.completed, response.submitted_at = True, data.submitted_at or now
    if data.user_agent and not response.user_agent:
        response.user_agent = data.user_agent[:300]
    response.save()
    if completed_now:
        pipeline.schedule(response, now=now)
    return Recorded(response, created=False, completed_now=completed_now)


TIMING_FLAG_PREFIXES = ("several scores", "posted ")


def is_timing_flag(reason: str) -> bool:
    """Timing flags may be cleared by a later human-looking submission; user-agent flags
    are never cleared."""
    return reason.startswith(TIMING_FLAG_PREFIXES)


def _pk(obj: Any) -> int | None:
    return obj.pk if obj is not None else None


def _mark_invitation_responded(invitation: Invitation, now: datetime) -> None:
    # Conditional: a repeat, or an invitation already marked, changes nothing.
    Invitation.objects.filter(pk=invitation.pk).exclude(status=InvitationStatus.RESPONDED).update(
        status=InvitationStatus.RESPONDED, responded_at=now
    )


# ---------------------------------------------------------------------------- other channels


def _primary_and_comment_questions(
    questions: list[Question],
) -> tuple[Question | None, Question | None]:
    primary = next((q for q in questions if q.is_primary), None)
    text = next((q for q in questions if q.type == QuestionType.TEXT), None)
    return primary, text


def response_record_external(
    *,
    org: Organization,
    actor: Actor,
    survey: Survey,
    channel: str = ResponseChannel.API,
    contact: Any = None,
    touchpoint: Any = None,
    employee: Any = None,
    answers: list[dict[str, Any]] | None = None,
    score: Any = None,
    comment: str | None = None,
    external_ref: str = "",
    submitted_at: datetime | None = None,
    locale: str = "",
) -> Recorded:
    """A response from another channel (a call-centre score, a chat rating), through the
    same validation as the respondent page. ``answers`` is [{question, value}], each
    question at most once; or ``score`` / ``comment`` stand for the primary question and
    the first text question (a question is answered one way only: ``score`` together with
    an answer to the primary question is refused, so is ``comment`` with an answer to that
    text question). Only an active survey takes responses; ``locale`` is one of
    ``settings.LANGUAGES`` (or empty). Idempotent on ``external_ref``: a repeat returns the
    first response (``created`` False), even once the survey is closed.
    """
    if channel not in ResponseChannel.values:
        raise ValidationError({"channel": [f"Unknown channel “{channel}”."]})
    if submitted_at is not None and submitted_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"submitted_at": ["Cannot be in the future."]})
    if locale and locale not in dict(settings.LANGUAGES):
        raise ValidationError({"locale": [f"Not a language of this platform: “{locale}”."]})
    if external_ref:
        existing = Response.objects.for_org(org).filter(external_ref=external_ref).first()
        if existing is not None:
            return Recorded(existing, created=False, completed_now=False, already_completed=True)
    if survey.status != SurveyStatus.ACTIVE:
        raise ValidationError(
            {
                "survey": [
                    "This survey is a draft: activate it before recording responses."
                    if survey.status == SurveyStatus.DRAFT
                    else "This survey is closed and takes no more responses."
                ]
            }
        )
    questions = list(
        Question.objects.filter(survey=survey, archived_at__isnull=True).order_by("position", "id")
    )
    raw: dict[int, Any] = {}
    if answers:
        by_id = {q.pk: q for q in questions}
        errors = []
        for index, item in enumerate(answers, start=1):
            qid = item.get("question")
            if qid not in by_id:
                errors.append(f"answer {index}: no such (active) question in this survey")
            elif qid in raw:
                errors.append(f"answer {index}: question {qid} is answered twice")
            else:
                raw[qid] = item.get("value")
        if errors:
            raise ValidationError({"answers": errors})
    primary, text_question = _primary_and_comment_questions(questions)
    if score is not None:
        if primary is None:
            raise ValidationError({"score": ["This survey has no primary (scored) question."]})
        if primary.pk in raw:
            raise ValidationError(
                {
                    "score": [
                        f"answers also answers the primary question ({primary.pk}): give its "
                        "score once, as score or in answers."
                    ]
                }
            )
        raw[primary.pk] = score
    if comment:
        if text_question is None:
            raise ValidationError({"comment": ["This survey has no free-text question."]})
        if text_question.pk in raw:
            raise ValidationError(
                {
                    "comment": [
                        f"answers also answers the comment question ({text_question.pk}): give "
                        "the comment once, as comment or in answers."
                    ]
                }
            )
        raw[text_question.pk] = comment
    if not raw:
        raise ValidationError({"answers": ["Give answers, or a score and/or a comment."]})
    try:
        cleaned = answers_clean(questions, raw, require=False)
    except ValidationError as exc:
        messages = dict(exc.message_dict.items())
        if primary is not None and str(primary.pk) in messages and score is not None:
            raise ValidationError({"score": messages[str(primary.pk)]}) from None
        raise ValidationError(
            {"answers": [f"question {qid}: {' '.join(m)}" for qid, m in messages.items()]}
        ) from None
    if primary is not None and primary.required and cleaned.get(primary.pk, EMPTY).empty:
        raise ValidationError({"score": ["The primary question needs an answer."]})
    return response_record(
        ResponseInput(
            org=org,
            survey=survey,
            questions=questions,
            answers=cleaned,
            channel=channel,
            complete=True,
            contact=contact,
            touchpoint=touchpoint,
            employee=employee,
            external_ref=external_ref,
            submitted_at=submitted_at,
            locale=locale,
        ),
        actor=actor,
    )


# ---------------------------------------------------------------------------- the sweep


def responses_complete_abandoned(*, now: datetime | None = None, batch: int = 500) -> int:
    """Complete responses that have their primary score but were left before Send for
    longer than ``CX_PARTIAL_COMPLETE_AFTER``: the score counts. Safe to repeat and to run
    in parallel (a conditional UPDATE per row). Returns how many it completed."""
    now = now or timezone.now()
    cutoff = now - settings_partial_after()
    ids = list(
        Response.objects.filter(
            completed=False, primary_score__isnull=False, updated_at__lt=cutoff
        ).values_list("pk", "updated_at")[:batch]
    )
    done = 0
    for pk, updated_at in ids:
        with transaction.atomic():
            if Response.objects.filter(pk=pk, completed=False).update(
                completed=True, submitted_at=updated_at
            ):
                done += 1
                pipeline.schedule(Response.objects.get(pk=pk), now=now)
    if done:
        pipeline.nudge_after_commit()
    return done


def settings_partial_after() -> timedelta:
    return settings.CX_PARTIAL_COMPLETE_AFTER
