"""The scales and buckets of every scored question type: one rule, one place.

NPS 0–10: promoters 9–10, passives 7–8, detractors 0–6.
CSAT 1–5: satisfied 4–5, neutral 3, dissatisfied 1–2 (CSAT % = share of 4–5).
CES 1–7: low effort 5–7, neutral 4, high effort 1–3 (reported as mean and share of 5–7).
Rating 1–5: positive 4–5, neutral 3, negative 1–2.
"""

from __future__ import annotations

from django.db import models


class QuestionType(models.TextChoices):
    NPS = "nps", "NPS (0–10)"
    CSAT = "csat", "CSAT (1–5)"
    CES = "ces", "CES (1–7)"
    RATING = "rating", "Rating (1–5 stars)"
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTI_CHOICE = "multi_choice", "Multiple choice"
    TEXT = "text", "Free text"


class Category(models.TextChoices):
    PROMOTER = "promoter", "Promoter"
    PASSIVE = "passive", "Passive"
    DETRACTOR = "detractor", "Detractor"
    SATISFIED = "satisfied", "Satisfied"
    NEUTRAL = "neutral", "Neutral"
    DISSATISFIED = "dissatisfied", "Dissatisfied"
    LOW_EFFORT = "low_effort", "Low effort"
    HIGH_EFFORT = "high_effort", "High effort"
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"


# type -> (min, max)
SCALES: dict[str, tuple[int, int]] = {
    QuestionType.NPS: (0, 10),
    QuestionType.CSAT: (1, 5),
    QuestionType.CES: (1, 7),
    QuestionType.RATING: (1, 5),
}

SCORED_TYPES = frozenset(SCALES)

# type -> ordered (lowest score of the bucket, category), highest bucket first
_BUCKETS: dict[str, list[tuple[int, str]]] = {
    QuestionType.NPS: [(9, Category.PROMOTER), (7, Category.PASSIVE), (0, Category.DETRACTOR)],
    QuestionType.CSAT: [(4, Category.SATISFIED), (3, Category.NEUTRAL), (1, Category.DISSATISFIED)],
    QuestionType.CES: [(5, Category.LOW_EFFORT), (4, Category.NEUTRAL), (1, Category.HIGH_EFFORT)],
    QuestionType.RATING: [(4, Category.POSITIVE), (3, Category.NEUTRAL), (1, Category.NEGATIVE)],
}

# The categories that count as "unhappy" (closed-loop rules start from these).
UNHAPPY = frozenset(
    {Category.DETRACTOR, Category.DISSATISFIED, Category.HIGH_EFFORT, Category.NEGATIVE}
)


def scale(question_type: str) -> tuple[int, int] | None:
    return SCALES.get(question_type)


def in_range(question_type: str, score: int) -> bool:
    bounds = SCALES.get(question_type)
    return bounds is not None and bounds[0] <= score <= bounds[1]


def category_for(question_type: str, score: int | None) -> str:
    """The bucket of ``score`` on ``question_type``'s scale ('' when unscored)."""
    if score is None or not in_range(question_type, score):
        return ""
    for lowest, category in _BUCKETS[question_type]:
        if score >= lowest:
            return category
    return ""
