"""Sentiment accuracy on the labelled set: ``feedback.sentiment.analyse`` against what a CX
manager would file each comment as.

What it does, by itself, in a few seconds (no database, no network):

1. sets Django up with the project's settings (an in-memory SQLite database: nothing is
   read or written), as the after-response pipeline would run it;
2. reads ``tests/feedback/data/sentiment_labelled.csv`` (text, locale, score, score_type,
   label) and analyses every comment with its locale and its answer's score;
3. reports the accuracy overall, per language, on the half the method was tuned on (even
   rows) and on the held-out half (odd rows), the confusion per label, the time per
   comment, and two floors measured on the same rows: VADER alone on the text (what the
   platform used before; it reads no German, so German rows count as neutral) and the score
   alone (its bucket, neutral when unscored); and the text alone (analyse without the score);
4. reports the same accuracy on ``sentiment_fresh.csv``, 70 comments from other industries
   written after the method and never tuned on: the closest thing here to unseen comments;
5. with ``--errors``, lists the comments it gets wrong.

It prints a readable report, and as its LAST line one JSON object:
``{"accuracy", "accuracy_en", "accuracy_de", "n"}`` (accuracies as fractions, 0–1).
The target: at least 0.85 overall and on each language.

    .venv/bin/python bench/sentiment.py [--errors] [--repeat 20]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "feedback" / "data" / "sentiment_labelled.csv"
FRESH = ROOT / "tests" / "feedback" / "data" / "sentiment_fresh.csv"
LABELS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class Row:
    index: int
    text: str
    locale: str
    score: int | None
    score_type: str
    label: str


def read_rows(path: Path = DATA) -> list[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        return [
            Row(
                index=n,
                text=r["text"],
                locale=r["locale"],
                score=int(r["score"]) if r["score"] else None,
                score_type=r["score_type"],
                label=r["label"],
            )
            for n, r in enumerate(csv.DictReader(f))
        ]


def accuracy(pairs: list[tuple[Row, str]]) -> float:
    return sum(row.label == got for row, got in pairs) / len(pairs) if pairs else 0.0


def score_floor(row: Row) -> str:
    from feedback.scoring import UNHAPPY, Category, category_for

    category = category_for(row.score_type, row.score) if row.score is not None else ""
    if row.score_type == "enps" and row.score is not None:
        category = category_for("nps", row.score)
    if category in UNHAPPY:
        return "negative"
    if category in {Category.PROMOTER, Category.SATISFIED, Category.LOW_EFFORT}:
        return "positive"
    return "neutral"


@functools.cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_floor(row: Row) -> str:
    if row.locale != "en":
        return "neutral"
    compound = _vader().polarity_scores(row.text)["compound"]
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the comments it gets wrong")
    parser.add_argument("--repeat", type=int, default=20, help="timing passes over the set")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
    os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from feedback import sentiment

    rows = read_rows()
    start = time.perf_counter()
    sentiment.analyse("warm-up", locale="en")
    sentiment.analyse("Aufwärmen", locale="de")
    first_call_ms = (time.perf_counter() - start) * 1000

    results: list[tuple[Row, str]] = []
    start = time.perf_counter()
    for row in rows:
        _, label = sentiment.analyse(
            row.text, locale=row.locale, score=row.score, score_type=row.score_type
        )
        results.append((row, label))
    first_pass_us = (time.perf_counter() - start) / len(rows) * 1e6

    # Time per comment on warm caches, as a worker that has seen a few comments runs.
    start = time.perf_counter()
    for _ in range(args.repeat):
        for row in rows:
            sentiment.analyse(
                row.text, locale=row.locale, score=row.score, score_type=row.score_type
            )
    per_comment_us = (time.perf_counter() - start) / (args.repeat * len(rows)) * 1e6

    def subset(**where: object) -> list[tuple[Row, str]]:
        return [
            (row, got)
            for row, got in results
            if all(getattr(row, k) == v for k, v in where.items() if k != "half")
            and ("half" not in where or (row.index % 2 == 0) == (where["half"] == "tuned"))
        ]

    en, de = subset(locale="en"), subset(locale="de")
    total = accuracy(results)
    print(f"Sentiment on {DATA.relative_to(ROOT)}: {len(rows)} comments")
    print(f"  labels: {dict(Counter(row.label for row in rows))}")
    print()
    print(f"  accuracy        {total:6.1%}   (n = {len(results)})")
    for name, part in (("English", en), ("German", de)):
        print(f"    {name:13} {accuracy(part):6.1%}   (n = {len(part)})")
    for half, name in (("tuned", "tuned half"), ("held", "held-out half")):
        part = subset(half=half)
        en_part = [p for p in part if p[0].locale == "en"]
        de_part = [p for p in part if p[0].locale == "de"]
        print(
            f"    {name:13} {accuracy(part):6.1%}   "
            f"(en {accuracy(en_part):.1%}, de {accuracy(de_part):.1%}; n = {len(part)})"
        )
    scored = [p for p in results if p[0].score is not None]
    unscored = [p for p in results if p[0].score is None]
    print(f"    with a score  {accuracy(scored):6.1%}   (n = {len(scored)})")
    print(f"    without       {accuracy(unscored):6.1%}   (n = {len(unscored)})")
    print()
    floors = {
        "VADER alone (the old method; German → neutral)": [(r, vader_floor(r)) for r in rows],
        "the score's bucket alone": [(r, score_floor(r)) for r in rows],
        "analyse on the text alone (no score)": [
            (r, sentiment.analyse(r.text, locale=r.locale)[1]) for r in rows
        ],
    }
    print("  floors and parts on the same rows:")
    for name, pairs in floors.items():
        en_pairs = [p for p in pairs if p[0].locale == "en"]
        de_pairs = [p for p in pairs if p[0].locale == "de"]
        print(
            f"    {accuracy(pairs):6.1%}  {name} "
            f"(en {accuracy(en_pairs):.1%}, de {accuracy(de_pairs):.1%})"
        )
    print()
    print("  confusion (rows: the label, columns: what analyse said)")
    print("    " + " " * 10 + "".join(f"{label:>10}" for label in LABELS) + "    recall")
    for label in LABELS:
        said = Counter(got for row, got in results if row.label == label)
        n = sum(said.values())
        cells = "".join(f"{said.get(other, 0):>10}" for other in LABELS)
        print(f"    {label:10}{cells}    {said.get(label, 0) / n:6.1%}")
    precision = {
        label: sum(1 for row, got in results if got == label and row.label == label)
        / max(1, sum(1 for _, got in results if got == label))
        for label in LABELS
    }
    print("    precision " + "".join(f"{precision[label]:>10.1%}" for label in LABELS))
    print()
    print(
        f"  time: {first_pass_us:.0f} µs per comment on the first pass, {per_comment_us:.0f} µs"
        f" warm; the first call (loading the lexicons) {first_call_ms:.0f} ms"
    )
    if FRESH.exists():
        fresh = read_rows(FRESH)
        print()
        print(f"  fresh check set ({FRESH.name}: written after the method, never tuned on)")
        for name, use_score in (("with the score", True), ("text alone", False)):
            pairs = [
                (
                    r,
                    sentiment.analyse(
                        r.text,
                        locale=r.locale,
                        score=r.score if use_score else None,
                        score_type=r.score_type,
                    )[1],
                )
                for r in fresh
            ]
            by_locale = {
                loc: accuracy([p for p in pairs if p[0].locale == loc]) for loc in ("en", "de")
            }
            print(
                f"    {name:15} {accuracy(pairs):6.1%}  "
                f"(en {by_locale['en']:.1%}, de {by_locale['de']:.1%}; n = {len(pairs)})"
            )

    if args.errors:
        print()
        print("  wrong:")
        for row, got in results:
            if got != row.label:
                score = f"{row.score_type} {row.score}" if row.score is not None else "no score"
                print(f"    #{row.index} {row.locale} {row.label} → {got} ({score}): {row.text}")

    print(
        json.dumps(
            {
                "accuracy": round(total, 4),
                "accuracy_en": round(accuracy(en), 4),
                "accuracy_de": round(accuracy(de), 4),
                "n": len(results),
            }
        )
    )


if __name__ == "__main__":
    main()
