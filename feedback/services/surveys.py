"""Surveys and their questions: create (blank or from a template), edit, reorder, remove.

The history rule: a question that has answers is never changed in a way that would
corrupt them. Its wording may be edited in place (each Answer keeps a snapshot of the
text it answered), but a change of type, scale or choices archives it and creates a new
question in its place; removing it archives it. Questions without answers are edited and
deleted freely. Positions of the active questions stay dense (0, 1, 2 …).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cxplatform.models import Organization
from cxplatform.services import Actor, audit, update_fields
from feedback.models import Question, Survey, SurveyKind, SurveyStatus
from feedback.scoring import SCORED_TYPES, QuestionType
from feedback.services import translations

# The primary question's type each kind of survey must have (custom: any scored type).
PRIMARY_TYPE = {
    SurveyKind.NPS: QuestionType.NPS,
    SurveyKind.ENPS: QuestionType.NPS,
    SurveyKind.CSAT: QuestionType.CSAT,
    SurveyKind.CES: QuestionType.CES,
}
CHOICE_TYPES = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE})
QUESTION_FIELDS = (
    "type",
    "text",
    "help_text",
    "required",
    "is_primary",
    "choices",
    "low_label",
    "high_label",
    "translations",
)
# Changing one of these on a question with answers would change what the answers mean.
STRUCTURAL_FIELDS = ("type", "choices")
SURVEY_FIELDS = (
    "name",
    "kind",
    "status",
    "touchpoint",
    "title",
    "intro",
    "thank_you",
    "default_locale",
    "translations",
)
MAX_CHOICES = 20

# Ready-made surveys, worded as the CX literature asks them. German texts for the ones a
# demo contact may read in German.
TEMPLATES: dict[str, dict[str, Any]] = {
    SurveyKind.NPS: {
        "name": "Customer NPS",
        "title": "How are we doing?",
        "intro": "Three quick questions. It takes less than a minute.",
        "thank_you": "Thank you! Every answer is read by our team.",
        "translations": {
            "de": {
                "title": "Wie machen wir uns?",
                "intro": "Drei kurze Fragen. Es dauert weniger als eine Minute.",
                "thank_you": "Vielen Dank! Jede Antwort wird von unserem Team gelesen.",
            }
        },
        "questions": [
            {
                "type": QuestionType.NPS,
                "is_primary": True,
                "required": True,
                "text": "How likely are you to recommend us to a friend or colleague?",
                "low_label": "Not at all likely",
                "high_label": "Extremely likely",
                "translations": {
                    "de": {
                        "text": "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder "
                        "Kollegen empfehlen?",
                        "low_label": "Überhaupt nicht wahrscheinlich",
                        "high_label": "Äußerst wahrscheinlich",
                    }
                },
            },
            {
                "type": QuestionType.TEXT,
                "text": "What is the main reason for your score?",
                "translations": {
                    "de": {"text": "Was ist der wichtigste Grund für Ihre Bewertung?"}
                },
            },
            {
                "type": QuestionType.TEXT,
                "text": "What is one thing we could do to make your experience better?",
                "translations": {
                    "de": {"text": "Was könnten wir tun, um Ihre Erfahrung zu verbessern?"}
                },
            },
        ],
    },
    SurveyKind.CSAT: {
        "name": "Customer satisfaction (CSAT)",
        "title": "How did we do?",
        "intro": "Tell us about your experience today.",
        "thank_you": "Thank you for taking the time to tell us.",
        "questions": [
            {
                "type": QuestionType.CSAT,
                "is_primary": True,
                "required": True,
                "text": "Overall, how satisfied were you with your experience today?",
                "low_label": "Very dissatisfied",
                "high_label": "Very satisfied",
            },
            {
                "type": QuestionType.SINGLE_CHOICE,
                "text": "Was your question resolved?",
                "choices": ["Yes, completely", "Partly", "No"],
            },
            {"type": QuestionType.TEXT, "text": "What could we have done better?"},
        ],
    },
    SurveyKind.CES: {
        "name": "Customer effort (CES)",
        "title": "Was it easy?",
        "intro": "Help us take the effort out of dealing with us.",
        "thank_you": "Thank you! We use every answer to make things simpler.",
        "questions": [
            {
                "type": QuestionType.CES,
                "is_primary": True,
                "required": True,
                "text": "The company made it easy for me to handle my issue.",
                "help_text": "How much do you agree with this statement?",
                "low_label": "Strongly disagree",
                "high_label": "Strongly agree",
            },
            {
                "type": QuestionType.MULTI_CHOICE,
                "text": "What took the most effort?",
                "choices": [
                    "Finding the right contact",
                    "Repeating my information",
                    "Waiting",
                    "Being transferred",
                    "Nothing, it was easy",
                ],
            },
            {"type": QuestionType.TEXT, "text": "What could we have made easier?"},
        ],
    },
    SurveyKind.ENPS: {
        "name": "Employee pulse (eNPS)",
        "title": "Your pulse check",
        "intro": "Anonymous and short. Your honest view helps make this a better place to work.",
        "thank_you": "Thank you for your honesty.",
        "translations": {
            "de": {
                "title": "Ihr Stimmungsbild",
                "intro": "Anonym und kurz. Ihre ehrliche Meinung hilft uns, ein besserer "
                "Arbeitsplatz zu werden.",
                "thank_you": "Vielen Dank für Ihre Offenheit.",
            }
        },
        "questions": [
            {
                "type": QuestionType.NPS,
                "is_primary": True,
                "required": True,
                "text": "How likely are you to recommend working here to a friend?",
                "low_label": "Not at all likely",
                "high_label": "Extremely likely",
                "translations": {
                    "de": {
                        "text": "Wie wahrscheinlich ist es, dass Sie uns einem Freund als "
                        "Arbeitgeber empfehlen?",
                        "low_label": "Überhaupt nicht wahrscheinlich",
                        "high_label": "Äußerst wahrscheinlich",
                    }
                },
            },
            {
                "type": QuestionType.TEXT,
                "text": "What would make this a better place to work?",
                "translations": {"de": {"text": "Was würde diesen Arbeitsplatz besser machen?"}},
            },
        ],
    },
    SurveyKind.CUSTOM: {
        "name": "Custom survey",
        "title": "We would love your feedback",
        "intro": "",
        "thank_you": "Thank you! Your feedback helps us improve.",
        "questions": [
            {
                "type": QuestionType.RATING,
                "is_primary": True,
                "required": True,
                "text": "How would you rate your experience?",
                "low_label": "Poor",
                "high_label": "Excellent",
            },
            {"type": QuestionType.TEXT, "text": "Anything else you would like to tell us?"},
        ],
    },
}


# ---------------------------------------------------------------------------- validation


def question_clean(data: dict[str, Any]) -> dict[str, Any]:
    """Normalise one question's fields; raise ValidationError (by field) when invalid."""
    cleaned = {key: data[key] for key in QUESTION_FIELDS if key in data}
    errors: dict[str, list[str]] = {}
    qtype = cleaned.get("type")
    if qtype not in QuestionType.values:
        errors["type"] = [f"Unknown question type “{qtype}”."]
    text = str(cleaned.get("text") or "").strip()
    if not text:
        errors["text"] = ["A question needs its text."]
    elif len(text) > 500:
        errors["text"] = ["At most 500 characters."]
    cleaned["text"] = text
    for key in ("help_text", "low_label", "high_label"):
        cleaned[key] = str(cleaned.get(key) or "").strip()
    choices = cleaned.get("choices") or []
    if isinstance(choices, str):
        choices = choices.splitlines()
    if not isinstance(choices, list):
        errors["choices"] = ["Give the choices as a list."]
        choices = []
    choices = [str(c).strip() for c in choices if str(c).strip()]
    if qtype in CHOICE_TYPES:
        if len(choices) < 2:
            errors["choices"] = ["A choice question needs at least two choices."]
        elif len({c.lower() for c in choices}) != len(choices):
            errors["choices"] = ["Each choice must be different."]
        elif len(choices) > MAX_CHOICES:
            errors["choices"] = [f"At most {MAX_CHOICES} choices."]
        elif any(len(c) > 200 for c in choices):
            errors["choices"] = ["A choice has at most 200 characters."]
    else:
        choices = []
    cleaned["choices"] = choices
    cleaned["required"] = bool(cleaned.get("required", False))
    cleaned["is_primary"] = bool(cleaned.get("is_primary", False))
    if cleaned["is_primary"] and qtype not in SCORED_TYPES and "type" not in errors:
        errors["is_primary"] = ["Only a scored question (NPS, CSAT, CES, rating) can be primary."]
    try:
        cleaned["translations"] = translations_clean(
            cleaned.get("translations"),
            texts=("text", "help_text", "low_label", "high_label"),
            lists=("choices",),
        )
    except ValidationError as exc:
        errors["translations"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def translations_clean(
    value: Any, *, texts: tuple[str, ...], lists: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """``{locale: {key: text}}`` with locales of ``settings.LANGUAGES`` and the keys given:
    the respondent's pages read them as such, so any other shape is refused here (a
    ValidationError), never met there. Texts are trimmed; empty ones are left out."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError("Give translations as {locale: {key: text}}.")
    languages = dict(settings.LANGUAGES)
    cleaned: dict[str, dict[str, Any]] = {}
    for locale, entry in value.items():
        if locale not in languages:
            raise ValidationError(
                f"“{locale}” is not a language of this platform ({', '.join(languages)})."
            )
        if not isinstance(entry, dict):
            raise ValidationError(f"{locale}: give {{key: text}}.")
        out: dict[str, Any] = {}
        for key, text in entry.items():
            if key in lists:
                if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
                    raise ValidationError(f"{locale}.{key}: give a list of texts.")
                items = [t.strip() for t in text]
            elif key in texts:
                if not isinstance(text, str):
                    raise ValidationError(f"{locale}.{key}: give a text.")
                items = [text.strip()]
            else:
                raise ValidationError(
                    f"{locale}: unknown key “{key}” (known: {', '.join((*texts, *lists))})."
                )
            if any("\x00" in t for t in items):
                raise ValidationError(f"{locale}.{key}: null characters are not allowed.")
            if any(len(t) > 5000 for t in items):
                raise ValidationError(f"{locale}.{key}: at most 5,000 characters.")
            if key in lists:
                out[key] = items
            elif items[0]:
                out[key] = items[0]
        if out:
            cleaned[locale] = out
    return cleaned


def primary_rule_check(*, kind: str, questions: list[dict[str, Any]]) -> None:
    """A scored survey has exactly one primary question, of the kind's type."""
    primaries = [q for q in questions if q.get("is_primary")]
    wanted = PRIMARY_TYPE.get(kind)
    if len(primaries) > 1:
        raise ValidationError({"questions": ["Only one question can be the primary one."]})
    if wanted and not primaries and questions:
        raise ValidationError(
            {"questions": [f"A {SurveyKind(kind).label} survey needs one primary question."]}
        )
    if wanted and primaries and primaries[0].get("type") != wanted:
        raise ValidationError(
            {
                "questions": [
                    f"The primary question of a {SurveyKind(kind).label} survey must be of "
                    f"type {QuestionType(wanted).label}."
                ]
            }
        )


def _survey_clean(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = {key: data[key] for key in SURVEY_FIELDS if key in data}
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
        if not cleaned["name"]:
            raise ValidationError({"name": ["A survey needs a name."]})
    if "kind" in cleaned and cleaned["kind"] not in SurveyKind.values:
        raise ValidationError({"kind": [f"Unknown kind “{cleaned['kind']}”."]})
    if "status" in cleaned and cleaned["status"] not in SurveyStatus.values:
        raise ValidationError({"status": [f"Unknown status “{cleaned['status']}”."]})
    if "default_locale" in cleaned and cleaned["default_locale"] not in dict(settings.LANGUAGES):
        raise ValidationError(
            {"default_locale": [f"Not a language of this platform: “{cleaned['default_locale']}”."]}
        )
    if "translations" in cleaned:
        try:
            cleaned["translations"] = translations_clean(
                cleaned["translations"], texts=("title", "intro", "thank_you")
            )
        except ValidationError as exc:
            raise ValidationError({"translations": exc.messages}) from None
    return cleaned


def _check_touchpoint(org: Organization, touchpoint: Any) -> None:
    if touchpoint is not None and touchpoint.organization_id != org.pk:
        raise ValidationError({"touchpoint": ["No such touchpoint."]})


# ---------------------------------------------------------------------------- surveys


@transaction.atomic
def survey_create(
    *,
    org: Organization,
    actor: Actor,
    name: str,
    kind: str = SurveyKind.NPS,
    questions: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Survey:
    """Create a survey with ``questions`` (in order). Validates the primary-question rule."""
    data = _survey_clean({"name": name, "kind": kind, **fields})
    _check_touchpoint(org, data.get("touchpoint"))
    cleaned_questions, errors = [], {}
    for index, question in enumerate(questions or []):
        try:
            cleaned_questions.append(question_clean(question))
        except ValidationError as exc:
            errors[str(index)] = exc.message_dict
    if errors:
        raise ValidationError({"questions": [_flatten(errors)]})
    primary_rule_check(kind=data["kind"], questions=cleaned_questions)
    survey = Survey(organization=org, **data)
    survey.full_clean()
    survey.save()
    Question.objects.bulk_create(
        Question(organization=org, survey=survey, position=position, **question)
        for position, question in enumerate(cleaned_questions)
    )
    audit(org=org, actor=actor, action="survey.created", obj=survey)
    return survey


def _flatten(errors: dict[str, Any]) -> str:
    parts = []
    for index, fields in errors.items():
        for field, messages in fields.items():
            parts.append(f"question {int(index) + 1}, {field}: {' '.join(messages)}")
    return "; ".join(parts)


def survey_create_from_template(
    *,
    org: Organization,
    actor: Actor,
    kind: str,
    name: str | None = None,
    touchpoint: Any = None,
    status: str = SurveyStatus.DRAFT,
) -> Survey:
    """A new survey from the ready template of ``kind`` (NPS, CSAT, CES, eNPS, custom)."""
    if kind not in TEMPLATES:
        raise ValidationError({"kind": [f"No template for “{kind}”."]})
    template = TEMPLATES[kind]
    return survey_create(
        org=org,
        actor=actor,
        name=name or template["name"],
        kind=kind,
        status=status,
        touchpoint=touchpoint,
        title=template["title"],
        intro=template["intro"],
        thank_you=template["thank_you"],
        translations=template.get("translations", {}),
        questions=[dict(q) for q in template["questions"]],
    )


@transaction.atomic
def survey_update(
    *,
    survey: Survey,
    data: dict[str, Any],
    actor: Actor,
    questions: list[dict[str, Any]] | None = None,
) -> Survey:
    """Change the survey's own fields and, given ``questions``, make its questions match
    them (``questions_sync``), all or nothing. A change of ``kind`` must still satisfy the
    primary-question rule."""
    cleaned = _survey_clean(data)
    _check_touchpoint(survey.organization, cleaned.get("touchpoint"))
    if questions is None and "kind" in cleaned and cleaned["kind"] != survey.kind:
        primary_rule_check(kind=cleaned["kind"], questions=_active_as_dicts(survey))
    before = translations.before_edit(survey)
    survey = update_fields(instance=survey, data=cleaned, actor=actor, action="survey.updated")
    translations.note_edit(survey, before)  # a changed text: its translations need work
    if questions is not None:
        questions_sync(survey=survey, questions=questions, actor=actor)
    return survey


def _active_as_dicts(survey: Survey) -> list[dict[str, Any]]:
    return list(active_questions(survey).values("type", "is_primary"))


def active_questions(survey: Survey) -> Any:
    return Question.objects.filter(survey=survey, archived_at__isnull=True).order_by(
        "position", "id"
    )


@transaction.atomic
def survey_archive(*, survey: Survey, actor: Actor) -> Survey:
    return update_fields(
        instance=survey,
        data={"status": SurveyStatus.ARCHIVED},
        actor=actor,
        action="survey.archived",
    )


# ---------------------------------------------------------------------------- questions


def _lock_survey(survey: Survey) -> Survey:
    """Serialise question edits of one survey (positions and the primary rule), and stamp
    ``updated_at``: the respondent page's question cache is keyed by it."""
    locked = Survey.objects.select_for_update().get(pk=survey.pk)
    Survey.objects.filter(pk=survey.pk).update(updated_at=timezone.now())
    return locked


def _renumber(survey: Survey) -> None:
    for position, question in enumerate(active_questions(survey)):
        if question.position != position:
            Question.objects.filter(pk=question.pk).update(position=position)


def _clear_other_primary(survey: Survey, keep: Question | None) -> None:
    others = active_questions(survey).filter(is_primary=True)
    if keep is not None and keep.pk:
        others = others.exclude(pk=keep.pk)
    others.update(is_primary=False)


def _check_primary_type(survey: Survey, data: dict[str, Any]) -> None:
    wanted = PRIMARY_TYPE.get(survey.kind)
    if data.get("is_primary") and wanted and data.get("type") != wanted:
        raise ValidationError(
            {
                "is_primary": [
                    f"The primary question of a {survey.get_kind_display()} survey must be "
                    f"of type {QuestionType(wanted).label}."
                ]
            }
        )


@transaction.atomic
def question_add(
    *, survey: Survey, actor: Actor, data: dict[str, Any], position: int | None = None
) -> Question:
    """Add a question (at the end unless ``position``). Marking it primary moves the
    primary flag from the survey's current primary question."""
    survey = _lock_survey(survey)
    cleaned = question_clean(data)
    _check_primary_type(survey, cleaned)
    questions = list(active_questions(survey))
    if not questions and PRIMARY_TYPE.get(survey.kind) == cleaned["type"]:
        cleaned["is_primary"] = True  # the first scored question of a scored survey
    if cleaned["is_primary"]:
        _clear_other_primary(survey, None)
    end = len(questions)
    position = end if position is None else max(0, min(position, end))
    Question.objects.filter(pk__in=[q.pk for q in questions[position:]]).update(
        position=F("position") + 1
    )
    question = Question.objects.create(
        organization=survey.organization, survey=survey, position=position, **cleaned
    )
    audit(org=survey.organization, actor=actor, action="question.added", obj=question)
    return question


def question_has_answers(question: Question) -> bool:
    return question.answers.exists()


@transaction.atomic
def question_update(*, question: Question, data: dict[str, Any], actor: Actor) -> Question:
    """Edit a question. Returns the question that now stands in its place: the same row,
    or, when the edit changes the type or the choices of a question that has answers, a
    new row (the old one is archived with its answers intact)."""
    survey = _lock_survey(question.survey)
    question = Question.objects.get(pk=question.pk)
    merged = {key: getattr(question, key) for key in QUESTION_FIELDS}
    merged.update({key: data[key] for key in QUESTION_FIELDS if key in data})
    cleaned = question_clean(merged)
    _check_primary_type(survey, cleaned)
    changes = {
        key: [getattr(question, key), value]
        for key, value in cleaned.items()
        if getattr(question, key) != value
    }
    if not changes:
        return question
    structural = any(key in changes for key in STRUCTURAL_FIELDS)
    before = translations.before_edit(question)
    if cleaned["is_primary"]:
        _clear_other_primary(survey, question)
    if structural and question_has_answers(question):
        now = timezone.now()
        Question.objects.filter(pk=question.pk).update(archived_at=now, is_primary=False)
        replacement = Question.objects.create(
            organization=survey.organization,
            survey=survey,
            position=question.position,
            **cleaned,
        )
        audit(
            org=survey.organization,
            actor=actor,
            action="question.replaced",
            obj=replacement,
            changes={"replaces": [question.pk, None], **_jsonable(changes)},
        )
        translations.note_edit(replacement, before)
        return replacement
    for key, value in cleaned.items():
        setattr(question, key, value)
    question.save()
    translations.note_edit(question, before)
    audit(
        org=survey.organization,
        actor=actor,
        action="question.updated",
        obj=question,
        changes=_jsonable(changes),
    )
    return question


def _jsonable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {key: [str(old), str(new)] for key, (old, new) in changes.items()}


@transaction.atomic
def question_remove(*, question: Question, actor: Actor) -> None:
    """Remove a question: archived when it has answers (they stay readable), else deleted."""
    survey = _lock_survey(question.survey)
    if question_has_answers(question):
        Question.objects.filter(pk=question.pk).update(archived_at=timezone.now(), is_primary=False)
        action = "question.archived"
    else:
        Question.objects.filter(pk=question.pk).delete()
        action = "question.deleted"
    audit(org=survey.organization, actor=actor, action=action, obj=question)
    _renumber(survey)


@transaction.atomic
def questions_reorder(*, survey: Survey, order: list[int], actor: Actor) -> list[Question]:
    """Put the active questions in ``order`` (their ids). Ids not of this survey are
    ignored; active questions missing from ``order`` keep their relative order at the end."""
    survey = _lock_survey(survey)
    questions = {q.pk: q for q in active_questions(survey)}
    wanted = [pk for pk in dict.fromkeys(order) if pk in questions]
    rest = [pk for pk in questions if pk not in wanted]
    result = []
    for position, pk in enumerate(wanted + rest):
        question = questions[pk]
        if question.position != position:
            Question.objects.filter(pk=pk).update(position=position)
            question.position = position
        result.append(question)
    audit(
        org=survey.organization,
        actor=actor,
        action="survey.questions_reordered",
        obj=survey,
        changes={"order": [None, wanted + rest]},
    )
    return result


@transaction.atomic
def question_move(*, question: Question, offset: int, actor: Actor) -> None:
    """Move a question up (-1) or down (+1): the keyboard / no-JS way to reorder."""
    ids = list(active_questions(question.survey).values_list("pk", flat=True))
    if question.pk not in ids:
        return
    index = ids.index(question.pk)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    questions_reorder(survey=question.survey, order=ids, actor=actor)


@transaction.atomic
def questions_sync(*, survey: Survey, questions: list[dict[str, Any]], actor: Actor) -> None:
    """Make the survey's active questions match ``questions`` (the API's nested write):
    entries with an ``id`` update that question, entries without one are added, and active
    questions not listed are removed. Each goes through the history rule above."""
    cleaned = []
    errors = {}
    for index, item in enumerate(questions):
        try:
            cleaned.append((item.get("id"), question_clean(item)))
        except ValidationError as exc:
            errors[str(index)] = exc.message_dict
    if errors:
        raise ValidationError({"questions": [_flatten(errors)]})
    primary_rule_check(kind=survey.kind, questions=[data for _, data in cleaned])
    existing = {q.pk: q for q in active_questions(survey)}
    unknown = [pk for pk, _ in cleaned if pk is not None and pk not in existing]
    if unknown:
        raise ValidationError({"questions": [f"Unknown question ids: {unknown}."]})
    keep = {pk for pk, _ in cleaned if pk is not None}
    for pk, question in existing.items():
        if pk not in keep:
            question_remove(question=question, actor=actor)
    # Clear the primary flag first so that moving it never trips the one-primary constraint.
    active_questions(survey).update(is_primary=False)
    order = []
    for pk, data in cleaned:
        if pk is None:
            order.append(question_add(survey=survey, actor=actor, data=data).pk)
        else:
            order.append(question_update(question=existing[pk], data=data, actor=actor).pk)
    questions_reorder(survey=survey, order=order, actor=actor)
