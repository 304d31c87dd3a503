"""Sentiment of survey comments: accuracy on the labelled set (tests/feedback/data/), the
sentences a new user tripped over, and the behaviours the closed loop relies on."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import pytest

from feedback import sentiment

DATA = Path(__file__).parent / "data" / "sentiment_labelled.csv"
LABELS = {"positive", "neutral", "negative"}

with DATA.open(encoding="utf-8", newline="") as f:
    ROWS = list(csv.DictReader(f))


def _analyse_row(row):
    score = int(row["score"]) if row["score"] else None
    return sentiment.analyse(
        row["text"], locale=row["locale"], score=score, score_type=row["score_type"]
    )


def test_the_labelled_set_is_large_realistic_and_bilingual():
    locales = [row["locale"] for row in ROWS]
    assert len(ROWS) >= 300
    assert locales.count("en") >= 150
    assert locales.count("de") >= 150
    assert {row["label"] for row in ROWS} == LABELS
    assert {row["score_type"] for row in ROWS} == {"nps", "csat", "ces", "enps", ""}


@pytest.mark.parametrize("locale", ["en", "de"])
def test_accuracy_on_the_labelled_set_is_at_least_85_percent_per_language(locale):
    rows = [row for row in ROWS if row["locale"] == locale]
    said = [(row, _analyse_row(row)[1]) for row in rows]
    wrong = [f"{row['label']} → {got}: {row['text']}" for row, got in said if got != row["label"]]
    assert 1 - len(wrong) / len(rows) >= 0.85, "\n".join(wrong)


def test_every_compound_is_between_minus_one_and_one():
    for row in ROWS:
        compound, label = _analyse_row(row)
        assert compound is not None
        assert -1 <= compound <= 1
        assert label in LABELS


def test_the_sentences_from_the_issue_read_as_a_person_reads_them():
    expensive = "Too expensive for the quality, and the renewal price was a surprise."
    solved = "Nothing, the agent solved it on the first call."

    assert sentiment.analyse(expensive)[1] == "negative"
    assert sentiment.analyse(solved)[1] == "positive"
    # ... and with the scores such answers come with.
    assert sentiment.analyse(expensive, score=3, score_type="nps")[1] == "negative"
    assert sentiment.analyse(solved, score=5, score_type="csat")[1] == "positive"


def test_an_empty_comment_has_no_sentiment():
    assert sentiment.analyse("") == (None, "")
    assert sentiment.analyse("   \n", locale="de", score=9, score_type="nps") == (None, "")


@pytest.mark.parametrize(
    ("locale", "plain", "negated"),
    [
        ("en", "The agent was helpful.", "The agent was not helpful."),
        ("en", "I had a problem with the order.", "I never had a problem with the order."),
        ("de", "Die Beratung war hilfreich.", "Die Beratung war nicht hilfreich."),
        ("de", "Es gab Probleme mit der Lieferung.", "Es gab keine Probleme mit der Lieferung."),
        ("de", "Die Erstattung kam pünktlich.", "Die Erstattung kam nie pünktlich."),
        ("de", "Preis-Leistung stimmt.", "Preis-Leistung stimmt nicht mehr."),
    ],
)
def test_negation_flips_the_sentiment(locale, plain, negated):
    before = sentiment.analyse(plain, locale=locale)
    after = sentiment.analyse(negated, locale=locale)
    assert before[1] != "neutral"
    assert after[1] != "neutral"
    assert before[1] != after[1]


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "The refund never arrived."),
        ("en", "Nobody could answer a simple question."),
        ("de", "Der versprochene Rückruf kam nie."),
        ("de", "Immer noch keine Erstattung."),
    ],
)
def test_something_owed_that_did_not_happen_is_a_complaint(locale, text):
    assert sentiment.analyse(text, locale=locale)[1] == "negative"


def test_negation_stops_at_the_end_of_its_clause():
    # "Nothing" answers the question; it does not negate the praise after the comma.
    assert sentiment.analyse("Nothing, the chat answered everything quickly.")[1] == "positive"
    assert sentiment.analyse("Nichts, alles lief reibungslos.", locale="de")[1] == "positive"


@pytest.mark.parametrize(
    ("locale", "good_then_bad", "bad_then_good"),
    [
        (
            "en",
            "The staff were friendly, but the parcel was late.",
            "The parcel was late, but the staff were friendly.",
        ),
        (
            "de",
            "Die Mitarbeiter waren freundlich, aber das Paket kam zu spät.",
            "Das Paket kam zu spät, aber die Mitarbeiter waren freundlich.",
        ),
        (
            "de",
            "Die Webseite ist schnell, trotzdem ist die Ware kaputt angekommen.",
            "Die Ware ist kaputt angekommen, trotzdem bestelle ich gerne wieder.",
        ),
    ],
)
def test_the_clause_after_a_contrast_weighs_more(locale, good_then_bad, bad_then_good):
    assert sentiment.analyse(good_then_bad, locale=locale)[1] == "negative"
    assert sentiment.analyse(bad_then_good, locale=locale)[1] == "positive"


def test_a_concessive_clause_weighs_less():
    text = "Quick answer, although it took a second email to get it right."
    assert sentiment.analyse(text)[1] == "positive"


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "Too many steps to change my address."),
        ("en", "I was on hold for 40 minutes."),
        ("de", "Viel zu teuer."),
        ("de", "Lange Wartezeit an der Hotline."),
        ("de", "Meine Kündigung wurde ignoriert."),
    ],
)
def test_domain_complaints_are_negative(locale, text):
    assert sentiment.analyse(text, locale=locale)[1] == "negative"


@pytest.mark.parametrize(
    ("locale", "text"),
    [("en", "Problem solved on the first call."), ("de", "Problem beim ersten Anruf gelöst.")],
)
def test_a_problem_next_to_its_fix_is_praise(locale, text):
    assert sentiment.analyse(text, locale=locale)[1] == "positive"


def test_the_score_decides_when_the_text_says_little():
    assert sentiment.analyse("Price.", score=2, score_type="nps")[1] == "negative"
    assert sentiment.analyse("Price.", score=10, score_type="nps")[1] == "positive"
    # CES: 7 is "very easy", 1 "very difficult".
    assert sentiment.analyse("Returned it.", score=7, score_type="ces")[1] == "positive"
    assert sentiment.analyse("Returned it.", score=1, score_type="ces")[1] == "negative"


def test_the_text_outweighs_a_score_it_contradicts():
    assert sentiment.analyse("The agent was lovely.", score=2, score_type="csat")[1] == "positive"
    assert sentiment.analyse("Delivery was late again.", score=9, score_type="nps")[1] == (
        "negative"
    )


@pytest.mark.parametrize("text", ["ok", "Nothing.", "n/a", "nichts", "Keine Ahnung", "Geht so."])
def test_a_bare_answer_is_neutral_whatever_the_score(text):
    for score in (0, 10):
        assert sentiment.analyse(text, locale="de", score=score, score_type="nps") == (
            0.0,
            "neutral",
        )


def test_regional_locales_use_their_language():
    assert sentiment.analyse("Sehr enttäuscht.", locale="de-AT")[1] == "negative"
    assert sentiment.analyse("Sehr enttäuscht.", locale="de_CH")[1] == "negative"
    assert sentiment.analyse("Very disappointed.", locale="en-GB")[1] == "negative"


def test_a_language_without_a_lexicon_gets_only_the_scores_reading():
    assert sentiment.analyse("Très déçu.", locale="fr") == (None, "")
    assert sentiment.analyse("Très déçu.", locale="fr", score=1, score_type="csat")[1] == (
        "negative"
    )


@pytest.mark.parametrize(
    ("locale", "text", "label"),
    [
        ("en", "Delivery 👍", "positive"),
        ("de", "Lieferung 😡", "negative"),
        ("en", "Great :)", "positive"),
        ("de", "Schon wieder kaputt :(", "negative"),
    ],
)
def test_emoji_and_emoticons_count(locale, text, label):
    assert sentiment.analyse(text, locale=locale)[1] == label


def test_a_response_is_read_in_its_language_with_its_primary_score():
    response = SimpleNamespace(
        comment="Der Preis.", locale="de", primary_score=2, primary_type="nps"
    )
    assert sentiment.analyse_response(response)[1] == "negative"
    response.primary_score = 10
    assert sentiment.analyse_response(response)[1] == "positive"
    response.comment = ""
    assert sentiment.analyse_response(response) == (None, "")
