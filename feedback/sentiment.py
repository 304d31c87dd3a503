"""The sentiment of a comment: ``analyse(text, locale=, score=, score_type=)``.

VADER's compound score and label for English; other languages get no score rather than a
wrong one. (Issue 13 replaces this with a method measured on a labelled set.)"""

from __future__ import annotations

import functools
from typing import Any

POSITIVE_AT = 0.05  # VADER's recommended thresholds on the compound score
NEGATIVE_AT = -0.05


@functools.cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def analyse(
    text: str, *, locale: str = "en", score: int | None = None, score_type: str = ""
) -> tuple[float | None, str]:
    """(compound score in [-1, 1] or None, label: positive / neutral / negative / "")."""
    text = (text or "").strip()
    language = (locale or "en").replace("_", "-").split("-")[0].lower()
    if not text or language != "en":
        return None, ""
    compound = round(_analyzer().polarity_scores(text)["compound"], 4)
    if compound >= POSITIVE_AT:
        return compound, "positive"
    if compound <= NEGATIVE_AT:
        return compound, "negative"
    return compound, "neutral"
