"""Translations of a survey, and which of them need a translator.

A survey is written in its default language; each other language has its texts in the
``translations`` JSON of the survey (title, intro, thank-you) and of each question (text,
help text, scale labels, options). Beside each translated text, ``translation_sources``
keeps the source text as it read when the translation was written. A text *needs
translation* when its source is not empty and

- it has no translation (a new question, an option added): state ``missing``; or
- its source has changed since it was translated: state ``stale``.

Translations written before sources were kept have none recorded: they count as up to
date until their source is edited, when the edit records the old source (``note_edit``),
so the change shows.

The editor and the API both save through ``survey_translations_save``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from cxplatform.services import Actor, audit
from feedback.models import Question, Survey

SURVEY_TEXTS = (("title", "Title"), ("intro", "Introduction"), ("thank_you", "Thank-you message"))
QUESTION_TEXTS = (
    ("text", "Question"),
    ("help_text", "Help text"),
    ("low_label", "Label of the lowest score"),
    ("high_label", "Label of the highest score"),
)
MULTILINE = frozenset({"survey.intro", "survey.thank_you"})
MAX_LENGTH = 5000

OK, MISSING, STALE = "ok", "missing", "stale"


@dataclass
class Row:
    """One text of the survey in the editor: its source and its translation."""

    key: str  # "survey.title", "q12.text", "q12.choice.0"
    label: str
    source: str
    translation: str
    state: str  # ok | missing | stale
    group: str = ""  # the question the text belongs to ("" for the survey's own)

    @property
    def needs_translation(self) -> bool:
        return self.state != OK

    @property
    def multiline(self) -> bool:
        """Sentences get a text area (a question reads long in German); labels a line."""
        return self.key in MULTILINE or self.key.endswith((".text", ".help_text"))


def languages(survey: Survey) -> list[tuple[str, str]]:
    """The languages a survey may be translated into: the platform's, but its own."""
    return [(code, name) for code, name in settings.LANGUAGES if code != survey.default_locale]


def _questions(survey: Survey) -> list[Question]:
    return list(survey.questions.filter(archived_at__isnull=True).order_by("position", "id"))


def _state(source: str, translation: str, recorded: Any) -> str:
    if not translation:
        return MISSING
    if recorded is not None and recorded != source:
        return STALE
    return OK


def rows(survey: Survey, locale: str, questions: list[Question] | None = None) -> list[Row]:
    """Every non-empty source text of the survey in order (title, intro, thank-you, then
    each question's texts and options) with its ``locale`` translation and state."""
    out: list[Row] = []
    texts = (survey.translations or {}).get(locale) or {}
    sources = (survey.translation_sources or {}).get(locale) or {}
    for field, label in SURVEY_TEXTS:
        source = getattr(survey, field) or ""
        if source.strip():
            translation = texts.get(field) or ""
            out.append(
                Row(
                    f"survey.{field}",
                    label,
                    source,
                    translation,
                    _state(source, translation, sources.get(field)),
                )
            )
    for n, question in enumerate(questions if questions is not None else _questions(survey), 1):
        texts = (question.translations or {}).get(locale) or {}
        sources = (question.translation_sources or {}).get(locale) or {}
        group = f"Question {n}"
        for field, label in QUESTION_TEXTS:
            source = getattr(question, field) or ""
            if source.strip():
                translation = texts.get(field) or ""
                out.append(
                    Row(
                        f"q{question.pk}.{field}",
                        label,
                        source,
                        translation,
                        _state(source, translation, sources.get(field)),
                        group,
                    )
                )
        translated = texts.get("choices") or []
        recorded = sources.get("choices")
        for i, choice in enumerate(question.choices or []):
            translation = str(translated[i]) if i < len(translated) else ""
            was = recorded[i] if isinstance(recorded, list) and i < len(recorded) else None
            if isinstance(recorded, list) and i >= len(recorded):
                was = ""  # an option added since: its translation (if any) is a guess
            out.append(
                Row(
                    f"q{question.pk}.choice.{i}",
                    f"Option {i + 1}",
                    str(choice),
                    translation,
                    _state(str(choice), translation, was),
                    group,
                )
            )
    return out


def needs_translation(survey: Survey) -> dict[str, int]:
    """{locale: how many texts need translation} for every language the survey has
    translations in (none started: an empty dict)."""
    locales = [code for code in (survey.translations or {}) if code != survey.default_locale]
    if not locales:
        return {}
    questions = _questions(survey)
    return {
        locale: sum(row.needs_translation for row in rows(survey, locale, questions))
        for locale in locales
    }


def _snapshot(obj: Any, fields: tuple[str, ...], with_choices: bool) -> dict[str, Any]:
    values: dict[str, Any] = {field: getattr(obj, field) or "" for field in fields}
    if with_choices:
        values["choices"] = [str(c) for c in (obj.choices or [])]
    return values


def before_edit(obj: Survey | Question) -> dict[str, Any]:
    """What ``note_edit`` needs to know about ``obj`` before an edit."""
    is_question = isinstance(obj, Question)
    fields = tuple(f for f, _ in (QUESTION_TEXTS if is_question else SURVEY_TEXTS))
    return {
        "sources": _snapshot(obj, fields, is_question),
        "translations": {k: dict(v) for k, v in (obj.translations or {}).items()},
    }


def note_edit(obj: Survey | Question, before: dict[str, Any]) -> None:
    """After an edit of ``obj`` (saved): a translation written in the edit records the
    source it translates; a source changed under a translation that recorded none records
    the old one, so that translation shows as needing work. Call inside the edit's
    transaction."""
    obj.refresh_from_db(fields=["translations", "translation_sources"])
    is_question = isinstance(obj, Question)
    fields = tuple(f for f, _ in (QUESTION_TEXTS if is_question else SURVEY_TEXTS))
    now = _snapshot(obj, fields, is_question)
    sources = {k: dict(v) for k, v in (obj.translation_sources or {}).items()}
    for locale, texts in (obj.translations or {}).items():
        old_texts = before["translations"].get(locale) or {}
        recorded = sources.setdefault(locale, {})
        for key, source in now.items():
            if texts.get(key) != old_texts.get(key) and texts.get(key):
                recorded[key] = source  # translated just now, from this source
            elif source != before["sources"][key] and key not in recorded and texts.get(key):
                recorded[key] = before["sources"][key]
        if not recorded:
            sources.pop(locale)
    if sources != (obj.translation_sources or {}):
        type(obj).objects.filter(pk=obj.pk).update(translation_sources=sources)
        obj.translation_sources = sources


def _parse(survey: Survey, questions: list[Question], texts: dict[str, Any]) -> dict:
    by_pk = {q.pk: q for q in questions}
    parsed: dict[Any, dict[str, Any]] = {}
    errors = []
    for key, value in texts.items():
        if not isinstance(value, str):
            errors.append(f"{key}: give a text.")
            continue
        value = value.strip()
        if "\x00" in value or len(value) > MAX_LENGTH:
            errors.append(f"{key}: at most {MAX_LENGTH:,} characters, no null characters.")
            continue
        head, _, rest = key.partition(".")
        if head == "survey" and rest in dict(SURVEY_TEXTS):
            parsed.setdefault(survey, {})[rest] = value
            continue
        question = by_pk.get(int(head[1:])) if head[:1] == "q" and head[1:].isdigit() else None
        field, _, index = rest.partition(".")
        if question is not None and field in dict(QUESTION_TEXTS) and not index:
            parsed.setdefault(question, {})[field] = value
        elif question is not None and field == "choice" and index.isdigit():
            if int(index) >= len(question.choices or []):
                errors.append(f"{key}: the question has no such option.")
            else:
                parsed.setdefault(question, {}).setdefault("choices", {})[int(index)] = value
        else:
            errors.append(f"{key}: not a text of this survey.")
    if errors:
        raise ValidationError(errors)
    return parsed


@transaction.atomic
def survey_translations_save(
    *, survey: Survey, locale: str, texts: dict[str, Any], actor: Actor
) -> Survey:
    """Write the ``locale`` translations given as ``{row key: text}`` (keys as ``rows``
    gives them; an empty text removes that translation; keys not given are kept). Each
    text saved records its source, so it is up to date until the source changes. One
    audit row per survey or question changed. Saving the same texts again changes
    nothing."""
    if locale not in dict(languages(survey)):
        raise ValidationError(f"“{locale}” is not a language this survey can be translated into.")
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    questions = _questions(survey)
    parsed = _parse(survey, questions, texts)
    for obj, values in parsed.items():
        is_question = isinstance(obj, Question)
        fields = tuple(f for f, _ in (QUESTION_TEXTS if is_question else SURVEY_TEXTS))
        current = _snapshot(obj, fields, is_question)
        all_texts = {k: dict(v) for k, v in (obj.translations or {}).items()}
        entry = all_texts.setdefault(locale, {})
        sources = {k: dict(v) for k, v in (obj.translation_sources or {}).items()}
        recorded = sources.setdefault(locale, {})
        changes: dict[str, list[Any]] = {}
        for field, value in values.items():
            if field == "choices":
                old = list(entry.get("choices") or [])
                new = [*old, *[""] * (len(obj.choices) - len(old))][: len(obj.choices)]
                for i, text in value.items():
                    new[i] = text
                if new != old:
                    changes["choices"] = [old, new]
                entry["choices"] = new
                recorded["choices"] = current["choices"]
                continue
            old = entry.get(field, "")
            if value != old:
                changes[field] = [old, value]
            if value:
                entry[field], recorded[field] = value, current[field]
            else:
                entry.pop(field, None)
                recorded.pop(field, None)
        if not entry:
            all_texts.pop(locale)
        if not recorded:
            sources.pop(locale)
        if all_texts == (obj.translations or {}) and sources == (obj.translation_sources or {}):
            continue
        type(obj).objects.filter(pk=obj.pk).update(
            translations=all_texts, translation_sources=sources
        )
        if changes:
            audit(
                org=survey.organization,
                actor=actor,
                action="survey.translated" if not is_question else "question.translated",
                obj=obj,
                changes={"locale": [None, locale], **changes},
            )
    survey.refresh_from_db()
    return survey
