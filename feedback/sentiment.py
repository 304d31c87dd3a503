"""The sentiment of a survey comment, in English and German, weighed with the answer's score.

``analyse(text, locale=, score=, score_type=)`` returns ``(compound, label)``: a compound in
[−1, 1] and ``positive`` / ``neutral`` / ``negative`` (``(None, "")`` for an empty comment).

How it reads a comment (all local: word lists in ``feedback.sentiment_lexicon`` and VADER's
English lexicon, nothing fetched at run time):

- words and phrases carry a valence (VADER's scale); customer-experience words that a
  general lexicon lacks or misreads are in the domain lists ("expensive", "on hold",
  "first call", "teuer", "Warteschleife", "gelöst");
- a negator ("not", "never", "no", "nothing", "without"; "nicht", "kein", "nie", "ohne",
  "niemand") flips the next words **of its clause** — "Nothing to complain about" is
  praise, and so is "Nothing, the agent solved it"; German's trailing "nicht" ("stimmt nicht
  mehr") flips the word before it; an owed thing negated ("no answer", "never arrived",
  "keine Erstattung") is a complaint;
- the part after an adversative ("but", "however"; "aber", "jedoch", "allerdings",
  "trotzdem", "dafür") weighs three times the part before it, and a concessive clause
  ("although", "though"; "obwohl", "zwar") half;
- "too" / "zu" before a gradable word is a complaint ("too many steps", "zu spät"); "still" /
  "immer noch" before a negation stresses it; a surprise or a rise next to a price is bad news;
- the answer's own score is a prior: the text decides when it says something, the score
  tips the balance when the text is lukewarm or says little ("Price." from a detractor).
  A bare "ok" / "nothing" / "nichts" is neutral whatever the score.

Locales other than English and German get the score's prior alone (no score: no sentiment).
Measured on ``tests/feedback/data/sentiment_labelled.csv`` by ``bench/sentiment.py``.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from feedback import sentiment_lexicon as lex

POSITIVE_AT = 0.15
NEGATIVE_AT = -0.15
TEXT_WEIGHT = 0.7  # of the text's compound against the score's prior, when the text speaks
PRIOR_ONLY_WEIGHT = 0.6  # of the prior when the text carries no feeling
NORMALISE = 4.0  # total valence v → v / sqrt(v² + NORMALISE)
NEGATION_SCOPE = 3
NEGATED = -0.74  # VADER's factor for a negated word
ADVERSATIVE_BEFORE, ADVERSATIVE_AFTER = 0.35, 1.5
CONCESSIVE = 0.5
WISH = 0.3

# The score's prior on each scale, by score. CES: 7 is "very easy" (feedback.scoring).
_NPS = (-0.9, -0.9, -0.8, -0.7, -0.6, -0.5, -0.35, -0.05, 0.15, 0.6, 0.8)
PRIORS: dict[str, dict[int, float]] = {
    "nps": dict(enumerate(_NPS)),
    "enps": dict(enumerate(_NPS)),
    "csat": {1: -0.9, 2: -0.6, 3: -0.15, 4: 0.4, 5: 0.75},
    "rating": {1: -0.9, 2: -0.6, 3: -0.15, 4: 0.4, 5: 0.75},
    "ces": {1: -0.9, 2: -0.7, 3: -0.45, 4: -0.1, 5: 0.25, 6: 0.55, 7: 0.75},
}

_TOKEN = re.compile(
    r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+|[.,;!?]|[:;]-?[()D]|:|[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]"
)
_CLAUSE_END = frozenset(".,;:!?")


@dataclass(frozen=True)
class _Language:
    lexicon: dict[str, float]
    negators: frozenset[str]
    boosters: dict[str, float]
    adversative: frozenset[str]
    concessive: frozenset[str]
    still: frozenset[str]
    too: frozenset[str]
    too_targets: frozenset[str] | None  # None: "too" before any word
    expected: frozenset[str]
    wide_negators: frozenset[str]
    wish: frozenset[str]
    german: bool
    phrases: dict[str, list[tuple[str, ...]]]  # first token → phrases, longest first


@dataclass
class _Item:
    kind: str  # word | punct | neg | boost | adv | conc | still | too
    text: str
    valence: float = 0.0
    expected: bool = False
    boost: float = 0.0


def _phrase_index(*tables: object) -> dict[str, list[tuple[str, ...]]]:
    index: dict[str, set[tuple[str, ...]]] = {}
    for table in tables:
        for key in table:  # type: ignore[attr-defined]
            parts = tuple(key.split())
            if len(parts) > 1:
                index.setdefault(parts[0], set()).add(parts)
    return {first: sorted(p, key=len, reverse=True) for first, p in index.items()}


@functools.cache
def _english() -> _Language:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    lexicon = dict(SentimentIntensityAnalyzer().lexicon)
    for word in lex.EN_NEGATORS:  # VADER scores "no" −1.2: here it is a negator
        lexicon.pop(word, None)
    lexicon.update(lex.EN)
    lexicon.update(lex.EMOJI)
    tables = (
        lexicon,
        lex.EN_NEGATORS,
        lex.EN_BOOSTERS,
        lex.EN_CONCESSIVE,
        lex.EXPECTED_EN,
        lex.EN_WISH,
    )
    return _Language(
        lexicon=lexicon,
        negators=lex.EN_NEGATORS,
        boosters=lex.EN_BOOSTERS,
        adversative=lex.EN_ADVERSATIVE,
        concessive=lex.EN_CONCESSIVE,
        still=lex.EN_STILL,
        too=lex.EN_TOO,
        too_targets=None,
        expected=lex.EXPECTED_EN,
        wide_negators=lex.EN_WIDE_NEGATORS,
        wish=lex.EN_WISH,
        german=False,
        phrases=_phrase_index(*tables),
    )


@functools.cache
def _german() -> _Language:
    tables = (
        lex.DE,
        lex.DE_NEGATORS,
        lex.DE_BOOSTERS,
        lex.DE_CONCESSIVE,
        lex.DE_STILL,
        lex.DE_TOO,
        lex.DE_WISH,
    )
    return _Language(
        lexicon=lex.DE | lex.EMOJI,
        negators=lex.DE_NEGATORS,
        boosters=lex.DE_BOOSTERS,
        adversative=lex.DE_ADVERSATIVE,
        concessive=lex.DE_CONCESSIVE,
        still=lex.DE_STILL,
        too=lex.DE_TOO,
        too_targets=lex.DE_TOO_TARGETS,
        expected=lex.EXPECTED_DE,
        wide_negators=lex.DE_WIDE_NEGATORS,
        wish=lex.DE_WISH,
        german=True,
        phrases=_phrase_index(*tables),
    )


_DE_SUFFIXES = ("sten", "ste", "eren", "erer", "ere", "em", "en", "er", "es", "e", "n", "s")


def _compound_parts(table: dict[str, float] | frozenset[str]) -> list[str]:
    """The single words of ``table`` long enough to be a compound's part, longest first."""
    parts = _COMPOUND_PARTS.get(id(table))
    if parts is None:
        parts = sorted((k for k in table if " " not in k and len(k) >= 5), key=len, reverse=True)
        _COMPOUND_PARTS[id(table)] = parts
    return parts


_COMPOUND_PARTS: dict[int, list[str]] = {}


def _de_find(word: str, table: dict[str, float] | frozenset[str]) -> str | None:
    """The entry of ``table`` that ``word`` is a form of: itself, an inflection, the head of
    a compound ("Rückerstattung" → "erstattung") or its first part ("Kündigungsbutton")."""
    if word in table:
        return word
    for suffix in _DE_SUFFIXES:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and stem in table:
            return stem
    if len(word) >= 8:
        for key in _compound_parts(table):
            if len(word) > len(key) + 2 and (
                word.endswith(key) or (len(key) >= 6 and word.startswith(key))
            ):
                return key
    return None


@functools.lru_cache(maxsize=50_000)
def _de_lookup(word: str) -> tuple[float, bool]:
    key = _de_find(word, lex.DE)
    valence = lex.DE[key] if key else 0.0
    expected = _de_find(word, lex.EXPECTED_DE) is not None
    return valence, expected


def _items(tokens: list[str], lang: _Language) -> list[_Item]:
    items: list[_Item] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        phrase = next(
            (p for p in lang.phrases.get(token, []) if tuple(tokens[i : i + len(p)]) == p), None
        )
        text = " ".join(phrase) if phrase else token
        width = len(phrase) if phrase else 1
        i += width
        if text in _CLAUSE_END:
            items.append(_Item("punct", text))
        elif text in lang.adversative:
            items.append(_Item("adv", text))
        elif text in lang.concessive:
            items.append(_Item("conc", text))
        elif text in lang.still:
            items.append(_Item("still", text))
        elif text in lang.negators:
            items.append(_Item("neg", text))
        elif text in lang.too and (
            lang.too_targets is None or (i < len(tokens) and tokens[i] in lang.too_targets)
        ):
            items.append(_Item("too", text))
        elif text in lang.boosters and text not in lang.lexicon:
            items.append(_Item("boost", text, boost=lang.boosters[text]))
        elif text in lex.EMOJI:
            items.append(_Item("word", text, lex.EMOJI[text]))
        elif lang.german and width == 1:
            valence, expected = _de_lookup(text)
            items.append(_Item("word", text, valence, expected))
        else:
            items.append(_Item("word", text, lang.lexicon.get(text, 0.0), text in lang.expected))
    return items


_COULD_NOT = frozenset({"couldn't", "couldnt", "can't", "cant", "cannot"})
_COULD_NOT_BE = frozenset({"be", "get", "have"})


def _superlatives(tokens: list[str], lang: _Language) -> list[str]:
    """Rewrite "couldn't be happier" / "einfacher geht es nicht" into one word of praise, so
    that the negation does not turn them into complaints."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if not lang.german:
            start = i + 2 if t == "could" and tokens[i + 1 : i + 2] == ["not"] else i + 1
            if t in _COULD_NOT or start == i + 2:
                rest = tokens[start : start + 3]
                if rest and rest[0] in _COULD_NOT_BE:
                    skip = 2 if rest[:2] == ["have", "been"] else 1
                    after = tokens[start + skip : start + skip + 1]
                    if after and (
                        after[0] in {"better", "more"}
                        or (after[0].endswith("er") and lang.lexicon.get(after[0], 0) > 0)
                    ):
                        out.append("_praise_")
                        i = start + skip + 1
                        continue
                if tokens[start : start + 3] == ["ask", "for", "more"]:
                    out.append("_praise_")
                    i = start + 3
                    continue
        else:
            rest = tokens[i + 1 : i + 4]
            if (
                t.endswith("er")
                and _de_lookup(t)[0] > 0
                and (rest == ["geht", "es", "nicht"] or rest[:2] == ["geht's", "nicht"])
            ):
                out.append("_praise_")
                i += 4 if rest[0] == "geht" else 3
                continue
        out.append(t)
        i += 1
    return out


def _text_valence(text: str, lang: _Language) -> tuple[float, bool]:
    """(total valence of the comment, whether any word carried a feeling)."""
    tokens = _superlatives(_TOKEN.findall(text.lower().replace("’", "'")), lang)
    items = _items(tokens, lang)
    for item in items:
        if item.text == "_praise_":
            item.kind, item.valence = "word", 2.8

    # Clauses: runs of items between punctuation.
    clauses: list[list[int]] = [[]]
    for n, item in enumerate(items):
        if item.kind == "punct":
            clauses.append([])
        else:
            clauses[-1].append(n)

    values = [0.0] * len(items)
    for clause in clauses:
        words = [items[n] for n in clause]
        texts = {w.text for w in words}
        money = not texts.isdisjoint(lex.MONEY_WORDS)
        wish = not texts.isdisjoint(lang.wish)
        negated: dict[int, bool] = {}
        for pos, item in enumerate(words):
            if item.kind != "neg":
                continue
            # A negator flips the first word of feeling (or owed thing) in its scope. One
            # that is the subject ("nobody", "niemand") or spans the clause ("weder",
            # "without that") reaches to the clause's end and prefers the owed thing:
            # "Nobody could answer a simple question" is about the answer.
            wide = item.text in lang.wide_negators
            scope = range(
                pos + 1, len(words) if wide else min(len(words), pos + 1 + NEGATION_SCOPE)
            )
            targets = [
                k
                for k in scope
                if words[k].kind == "word" and (words[k].valence or words[k].expected)
            ]
            if wide:
                targets = [k for k in targets if words[k].expected] or targets
            if targets:
                negated[targets[0]] = True
        for pos, item in enumerate(words):
            if item.kind == "still" and any(w.kind == "neg" for w in words[pos + 1 : pos + 3]):
                values[clause[pos]] = -1.2
            if item.kind != "word":
                continue
            v = item.valence
            if money and item.text in {"surprise", "surprised", "überraschung"}:
                v = -1.6
            if money and item.text in lex.INCREASE_WORDS:
                v = -1.6
            if item.text in lex.IN_CONTEXT and not texts.isdisjoint(lex.IN_CONTEXT[item.text][0]):
                v = lex.IN_CONTEXT[item.text][1]  # "hält ewig": lasts, not waits, forever
            if item.text in lex.TROUBLE_WORDS and any(
                w.text in lex.RESOLVED_WORDS for w in words[max(0, pos - 2) : pos + 3]
            ):
                v = 0.0  # "problem solved", "fix my problem": the resolution speaks
            boost = sum(w.boost for w in words[max(0, pos - 2) : pos] if w.kind == "boost")
            if v and boost:
                v *= 1 + boost
            if pos and words[pos - 1].kind == "too":
                v = v * 1.3 if v < 0 else -1.5 if v == 0 else -0.5 * v
            is_negated = negated.get(pos, False)
            if not is_negated and lang.german and (v or item.expected):
                # A trailing "nicht" / "nie" negates the word before it: "stimmt nicht
                # mehr", "kam nie an".
                tail = words[pos + 1 :]
                k = next(
                    (k for k, w in enumerate(tail[:2]) if w.text in lex.DE_TRAILING_NEGATORS), None
                )
                if k is not None:
                    is_negated = not any(w.valence or w.expected for w in tail[:k] + tail[k + 1 :])
            if is_negated:
                v = -max(1.5, v) if item.expected and v >= 0 else v * NEGATED
            if wish and v > 0:
                v *= WISH  # "would be nice", "wäre praktischer": a wish, not praise
            values[clause[pos]] = v

    weights = [1.0] * len(items)
    adversatives = [n for n, item in enumerate(items) if item.kind == "adv"]
    if adversatives:
        last = adversatives[-1]
        if any(values[last + 1 :]):
            for n in range(len(items)):
                weights[n] = ADVERSATIVE_BEFORE if n < last else ADVERSATIVE_AFTER
    for n, item in enumerate(items):
        if item.kind == "conc":
            for m in range(n + 1, len(items)):
                if items[m].kind in {"punct", "adv"}:
                    break
                weights[m] = CONCESSIVE

    total = sum(v * w for v, w in zip(values, weights, strict=True))
    evidence = any(values)
    if total:
        total += math.copysign(0.25 * min(text.count("!"), 3), total)
    return total, evidence


def prior(score: int | None, score_type: str) -> float | None:
    """What the answer's own score says on its own, in [−1, 1] (None when unscored)."""
    if score is None:
        return None
    return PRIORS.get(score_type, {}).get(int(score))


def _label(compound: float) -> str:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def _language(locale: str) -> _Language | None:
    code = (locale or "en").replace("_", "-").split("-")[0].lower()
    if code == "en":
        return _english()
    if code == "de":
        return _german()
    return None


def analyse(
    text: str, *, locale: str = "en", score: int | None = None, score_type: str = ""
) -> tuple[float | None, str]:
    """The sentiment of a comment: ``(compound in [−1, 1], label)``, ``(None, "")`` when the
    comment is empty (or in a language without a lexicon and unscored). Deterministic and
    safe to call again."""
    text = (text or "").strip()
    if not text:
        return None, ""
    p = prior(score, score_type)
    if " ".join(text.lower().replace("’", "'").rstrip(".!").split()) in lex.NO_OPINION:
        return 0.0, "neutral"
    lang = _language(locale)
    if lang is None:
        if p is None:
            return None, ""
        compound = round(PRIOR_ONLY_WEIGHT * p, 4)
        return compound, _label(compound)
    total, evidence = _text_valence(text, lang)
    text_compound = total / math.sqrt(total * total + NORMALISE)
    if p is None:
        compound = text_compound
    elif evidence:
        compound = TEXT_WEIGHT * text_compound + (1 - TEXT_WEIGHT) * p
    else:
        compound = PRIOR_ONLY_WEIGHT * p
    compound = round(max(-1.0, min(1.0, compound)), 4)
    return compound, _label(compound)


def analyse_response(response: Any) -> tuple[float | None, str]:
    """``analyse`` of a ``Response``: its comment, in the language it was answered in (else
    its organization's default), with its primary score on its scale."""
    organization = getattr(response, "organization", None)
    return analyse(
        response.comment,
        locale=response.locale or getattr(organization, "default_locale", "") or "en",
        score=response.primary_score,
        score_type=response.primary_type or "",
    )
