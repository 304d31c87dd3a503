"""Word lists for ``feedback.sentiment``: the customer-experience words VADER's general
English lexicon lacks or reads wrongly, and a compact hand-curated German lexicon.

Valences are on VADER's scale (−4 … +4). Keys are lower case; a key with spaces is a
phrase, matched on whole tokens before single words. German words are also found through
their inflected forms and as the head or the first part of a compound (see
``feedback.sentiment``), so one entry covers "schnell", "schnelle", "schnellen".

``EXPECTED`` words carry no feeling alone but name something the customer was owed (an
answer, a refund, the parcel arriving): negated, they are a complaint ("no answer",
"never arrived", "keine Erstattung", "niemand hat zurückgerufen").

No list here is fetched or generated at run time. German sentiment lexicons on PyPI were
considered (SentiWS through spacy-sentiws is licensed for non-commercial use only;
textblob-de's has been unmaintained since 2019 and needs NLTK data downloads), hence the
hand-curated list.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``: the lists below read as prose."""
    return frozenset(text.split())


# ------------------------------------------------------------------------------- English

# Overrides and additions to VADER's lexicon for survey comments.
EN: dict[str, float] = {
    # VADER reads these as feelings; in a survey comment they are plain words.
    "support": 0.0,
    "care": 0.0,
    "please": 0.0,
    "promised": 0.0,
    "promise": 0.0,
    "sure": 0.0,
    "yes": 0.3,
    "want": 0.0,
    "ok": 0.3,
    "okay": 0.3,
    "fine": 0.3,
    "matter": 0.0,
    "god": 0.0,
    "top": 0.3,
    "special": 0.6,
    "real": 0.0,
    "kind": 0.0,  # "what kind of"; "kind staff" is rare next to "friendly"
    "pretty": 0.0,  # "pretty slow" is a booster
    "well": 0.6,
    "surprise": 0.6,
    "surprised": 0.6,
    "free": 1.0,
    "help": 0.8,
    "true": 0.5,
    "fun": 1.5,
    # price and money
    "expensive": -1.9,
    "pricey": -1.4,
    "overpriced": -2.3,
    "overcharged": -2.3,
    "rip off": -2.8,
    "ripoff": -2.8,
    "hidden fees": -2.2,
    "hidden costs": -2.2,
    "hidden charges": -2.2,
    "charged twice": -2.2,
    "double charged": -2.2,
    "fee": -0.6,
    "fees": -0.8,
    "affordable": 1.5,
    "good value": 2.0,
    "value for money": 2.0,
    "worth every": 2.4,
    "unbeatable": 2.6,
    "reasonable": 1.2,
    "cheaper": 0.8,
    # time and waiting
    "late": -1.7,
    "later than": -1.2,
    "delay": -1.6,
    "delayed": -1.7,
    "delays": -1.6,
    "wait": -0.9,
    "waited": -1.4,
    "waiting": -1.2,
    "on hold": -1.6,
    "slow": -1.5,
    "slower": -1.2,
    "forever": -1.2,
    "where is my": -1.5,
    "where's my": -1.5,
    "ages": -1.2,
    "took ages": -2.0,
    "took forever": -2.2,
    "took a while": -1.0,
    "weeks": -0.8,
    "months": -0.6,
    "hours": -0.4,
    "again": -0.2,
    "fast": 1.6,
    "faster": 0.6,
    "quick": 1.6,
    "quickly": 1.5,
    "promptly": 1.6,
    "prompt": 1.5,
    "on time": 1.4,
    "early": 1.2,
    "in minutes": 1.4,
    "first call": 1.6,
    "first time": 1.0,
    "first visit": 1.4,
    "same day": 1.2,
    # effort
    "easy": 1.9,
    "easier": 1.6,
    "simple": 1.5,
    "simply": 0.0,
    "simple question": 0.0,  # "nobody could answer a simple question"
    "smooth": 1.8,
    "smoothly": 1.8,
    "seamless": 2.0,
    "straightforward": 1.7,
    "painless": 2.0,
    "effortless": 2.2,
    "convenient": 1.7,
    "hassle": -1.7,
    "hassle free": 2.0,
    "fuss": -1.3,
    "effort": -0.8,
    "complicated": -1.7,
    "confusing": -1.6,
    "hard to": -1.4,
    "difficult": -1.6,
    "nightmare": -2.6,
    "chase": -1.4,
    "chasing": -1.4,
    "transferred": -1.0,
    "twice": -0.6,
    "three times": -0.9,
    "four times": -1.1,
    "gave up": -1.8,
    "too many steps": -1.8,
    # things that break or go wrong
    "broke": -1.9,
    "broken": -2.1,
    "crash": -1.8,
    "crashed": -1.8,
    "crashes": -1.8,
    "crashing": -1.8,
    "damaged": -2.0,
    "dented": -1.2,
    "crushed": -1.8,
    "dirty": -1.6,
    "faulty": -2.0,
    "defective": -2.0,
    "wrong": -1.8,
    # Praise for how things are handled when they go wrong: no complaint.
    "when something goes wrong": 0.0,
    "if something goes wrong": 0.0,
    "if anything goes wrong": 0.0,
    "when things go wrong": 0.0,
    "missing": -1.5,
    "lost": -1.5,
    "fell apart": -2.3,
    "gone downhill": -2.2,
    "went downhill": -2.2,
    "dropped": -1.1,
    "expired": -1.3,
    "rejecting": -1.5,
    "rejected": -1.5,
    "logging me out": -1.3,
    "logs me out": -1.3,
    "kept": -0.5,
    "keeps": -0.5,
    "constantly": -0.6,
    "understaffed": -1.8,
    "overtime": -1.0,
    "burnout": -2.3,
    "unanswered": -1.6,
    "ignored": -1.9,
    "cancelled": -1.0,
    "closed": -0.5,
    "blamed": -1.7,
    "rude": -2.3,
    "unhelpful": -1.9,
    "useless": -2.0,
    "script": -0.6,
    "from a script": -1.4,
    "surcharge": -1.4,
    "downgrade": -1.2,
    "disappointed": -2.1,
    "disappointing": -2.1,
    "chaotic": -2.0,
    "unacceptable": -2.5,
    "never again": -2.8,
    "no longer": -0.6,
    "not as good as": -1.6,
    "used to be": -0.6,
    # things that went right
    "solved": 1.6,
    "resolved": 1.6,
    "sorted": 1.4,
    "sorted out": 1.5,
    "fixed": 1.4,
    "fix": 0.6,
    "works": 0.8,
    "worked": 0.8,
    "accurate": 1.3,
    "reliable": 1.8,
    "knowledgeable": 1.8,
    "know": 0.0,
    "patient": 1.6,
    "polite": 1.4,
    "courteous": 1.6,
    "professional": 1.6,
    "fits": 0.8,
    "fits perfectly": 2.2,
    "well packed": 1.6,
    "lasted": 1.2,
    "refunded": 1.2,
    "above and beyond": 2.8,
    "recommended": 1.4,
    "lovely touch": 2.4,
    "nice touch": 2.2,
    "valued": 1.9,
    "heard": 0.0,
    "recognition": 0.8,
    "flexible": 1.4,
    "loyal": 1.0,
    # lukewarm verdicts
    "nothing special": -0.6,
    "nothing stands out": -0.6,
    "just a shop": -0.4,
    "standard": 0.0,
    "decent": 0.6,
    "average": -0.4,
    "mediocre": -1.2,
    "so so": -0.3,
    "meh": -0.3,
}

# Words that negate the next few words of their clause. "nothing" only negates inside its
# clause: "Nothing to complain about" is praise, and "Nothing, the agent solved it" is too.
EN_NEGATORS = words(
    """not no never nothing none nobody neither nor without cannot hardly barely
    noone nowhere ain't aren't can't couldn't didn't doesn't don't hadn't hasn't
    haven't isn't mightn't mustn't needn't shan't shouldn't wasn't weren't won't wouldn't
    aint arent cant couldnt didnt doesnt dont hadnt hasnt havent isnt wasnt werent wont
    wouldnt shouldnt"""
) | {"no one", "hardly anyone"}

EN_BOOSTERS: dict[str, float] = {
    "very": 0.3,
    "really": 0.3,
    "so": 0.25,
    "extremely": 0.4,
    "absolutely": 0.4,
    "totally": 0.3,
    "completely": 0.3,
    "incredibly": 0.4,
    "super": 0.3,
    "truly": 0.3,
    "always": 0.1,
    "quite": 0.1,
    "pretty": 0.1,
    "way": 0.3,
    "much": 0.2,
    "at all": 0.3,
    "a bit": -0.4,
    "a little": -0.4,
    "slightly": -0.4,
    "somewhat": -0.3,
    "kind of": -0.3,
    "sort of": -0.3,
}

EN_ADVERSATIVE = frozenset({"but", "however", "nevertheless", "nonetheless"})
EN_CONCESSIVE = frozenset({"although", "though", "even though", "even if"})
EN_STILL = frozenset({"still"})
# Negators that are the subject of their clause, or span it: they reach to its end.
EN_WIDE_NEGATORS = frozenset({"nobody", "no one", "noone", "neither", "hardly anyone", "nor"})
# A clause with these is a wish: its praise words count for little ("would be nice").
EN_WISH = frozenset({"would be", "would help", "would make", "it would", "would have been"})
EN_TOO = frozenset({"too"})

EXPECTED_EN = words(
    """answer answered reply replied response respond responded refund refunds callback
    arrive arrived arrives came come comes
    help helped helpful work worked working fix fixed fixes solve solved resolve resolved
    told tell informed update updates updated recognition delivered accept accepted heard
    listen listens listened explained understand understood know"""
) | {"call back", "called back", "got back", "get back", "turned up", "show up", "showed up"}

# Comparatives after "couldn't be" / "could not have been": praise, not a complaint.
EN_COULD_NOT_BE = frozenset({"couldn't", "could not", "couldnt", "can't", "cannot", "can not"})

# Whole answers that say nothing, whatever the score: "ok", a bare "nothing".
CONTENTLESS = frozenset(
    {
        "ok",
        "okay",
        "k",
        "nothing",
        "nothing really",
        "nothing else",
        "nothing more",
        "none",
        "no",
        "n/a",
        "na",
        "n.a",
        "no comment",
        "no comments",
        "not sure",
        "don't know",
        "dont know",
        "dunno",
        "i don't know",
        "i'd rather not say",
        "rather not say",
        "-",
        "--",
        ".",
        "...",
        "?",
        "meh",
        "nope",
        "nil",
        "idk",
        "nichts",
        "nichts weiter",
        "nichts mehr",
        "nix",
        "nein",
        "keine angabe",
        "k.a",
        "k. a",
        "ka",
        "kein kommentar",
        "keine ahnung",
        "weiß nicht",
        "weiss nicht",
        "weiß ich nicht",
        "keine meinung",
        "ohne kommentar",
        "entfällt",
    }
)
# Whole answers that are a lukewarm verdict: neutral, whatever the score.
LUKEWARM = frozenset(
    {
        "so so",
        "so-so",
        "average",
        "mediocre",
        "it's ok",
        "it was ok",
        "it's okay",
        "it was okay",
        "fine i guess",
        "could be better",
        "could be worse",
        "geht so",
        "mittelmäßig",
        "passt schon",
        "ganz ok",
        "ganz okay",
        "durchschnittlich",
        "naja",
        "na ja",
        "es geht",
        "könnte besser sein",
    }
)
NO_OPINION = CONTENTLESS | LUKEWARM

# ------------------------------------------------------------------------------- German

DE: dict[str, float] = {
    # praise
    "gut": 1.9,
    "guter": 1.9,
    "gutes": 1.9,
    "besser": 1.4,
    "beste": 3.0,
    "besten": 3.0,
    "bestens": 3.0,
    "sehr gut": 2.8,
    "super": 2.6,
    "toll": 2.8,
    "tolle": 2.8,
    "tolles": 2.8,
    "prima": 2.5,
    "klasse": 2.5,
    "spitze": 3.0,
    "spitzenmäßig": 3.0,
    "top": 2.6,
    "perfekt": 3.0,
    "hervorragend": 3.2,
    "ausgezeichnet": 3.2,
    "exzellent": 3.2,
    "erstklassig": 3.1,
    "großartig": 3.1,
    "wunderbar": 3.0,
    "fantastisch": 3.2,
    "genial": 3.0,
    "überragend": 3.0,
    "unschlagbar": 2.6,
    "sensationell": 3.2,
    "freundlich": 2.2,
    "freundliche": 2.2,
    "nett": 2.0,
    "herzlich": 2.3,
    "höflich": 1.6,
    "zuvorkommend": 2.3,
    "hilfsbereit": 2.2,
    "hilfreich": 1.9,
    "kompetent": 2.1,
    "geduldig": 1.7,
    "professionell": 1.7,
    "engagiert": 1.8,
    "aufmerksam": 1.6,
    "kulant": 2.2,
    "fair": 1.5,
    "schnell": 1.6,
    "schneller": 0.6,
    "zügig": 1.6,
    "flott": 1.6,
    "blitzschnell": 2.4,
    "pünktlich": 1.6,
    "zuverlässig": 1.9,
    "früher als": 1.4,
    "einfach": 1.3,  # also "simply": see the booster handling
    "einfacher": 1.5,
    "einfache frage": 0.0,
    "unkompliziert": 2.0,
    "problemlos": 2.2,
    "reibungslos": 2.2,
    "bequem": 1.6,
    "praktisch": 1.3,
    "übersichtlich": 1.5,
    "verständlich": 1.4,
    "klar": 0.8,
    "transparent": 1.4,
    "flexibel": 1.4,
    "flexible": 1.4,
    "zufrieden": 2.2,
    "rundum zufrieden": 3.0,
    "begeistert": 2.9,
    "empfehlenswert": 2.4,
    "empfehlen": 2.0,
    "weiterempfehlen": 2.4,
    "danke": 1.8,
    "dank": 1.5,
    "vielen dank": 2.2,
    "dankbar": 1.9,
    "gerne": 1.4,
    "gern": 1.4,
    "gerne wieder": 2.4,
    "lob": 2.0,
    "schön": 1.8,
    "schöne": 1.8,
    "angenehm": 1.7,
    "günstig": 1.3,
    "günstiger": 0.8,
    "preiswert": 1.6,
    "lohnt sich": 2.0,
    "lohnt": 1.6,
    "wert": 1.2,
    "jeden cent wert": 2.6,
    "gold wert": 2.8,
    "wertgeschätzt": 2.0,
    "gelöst": 1.6,
    "geklappt": 1.4,
    "klappt": 1.2,
    "funktioniert": 0.8,
    "erledigt": 1.0,
    "repariert": 1.4,
    "erstattet": 1.2,
    "sorgfältig": 1.7,
    "ordentlich": 1.3,
    "gut verpackt": 2.0,
    "stimmt": 0.9,
    "stabil": 0.6,
    "treu": 1.2,
    "treuer": 1.2,
    "glücklich": 2.6,
    "freude": 2.2,
    "gefällt": 1.9,
    "gefallen": 1.8,
    "mag": 1.6,
    "mögen": 1.6,
    "liebe": 2.8,
    "lieben": 2.8,
    "stolz": 2.0,
    "weiter so": 2.4,
    "alles bestens": 3.0,
    "alles gut": 2.0,
    "alles top": 2.8,
    "beim ersten anruf": 1.6,
    "beim ersten mal": 1.2,
    "beim ersten termin": 1.4,
    "zeit genommen": 1.8,
    "gut beraten": 2.4,
    "miteinander": 0.6,
    "anerkennung": 0.8,
    "lernt viel": 1.4,
    # complaints
    "schlecht": -2.1,
    "schlechte": -2.1,
    "schlechter": -1.8,
    "schlimm": -2.2,
    "furchtbar": -2.6,
    "schrecklich": -2.7,
    "katastrophe": -3.0,
    "katastrophal": -3.0,
    "miserabel": -2.8,
    "mies": -2.3,
    "grottig": -2.6,
    "unmöglich": -2.2,
    "enttäuscht": -2.1,
    "enttäuschend": -2.1,
    "enttäuschung": -2.1,
    "ärgerlich": -2.0,
    "ärger": -1.9,
    "verärgert": -2.2,
    "wütend": -2.5,
    "sauer": -1.8,
    "frustriert": -2.2,
    "frustrierend": -2.2,
    "unfreundlich": -2.2,
    "unhöflich": -2.2,
    "frech": -2.0,
    "unverschämt": -2.6,
    "inkompetent": -2.4,
    "unfähig": -2.4,
    "nutzlos": -2.0,
    "unbrauchbar": -2.2,
    "sinnlos": -1.8,
    "unzuverlässig": -2.0,
    "unzufrieden": -2.2,
    "unzumutbar": -2.6,
    "leider": -0.9,
    "langsam": -1.5,
    "spät": -1.6,
    "zu spät": -2.0,
    "verspätet": -1.7,
    "verspätung": -1.7,
    "verzögerung": -1.6,
    "lange": -0.8,
    "lang": -0.6,
    "ewig": -1.8,
    "wo bleibt": -1.5,
    "dauert": -0.8,
    "gedauert": -0.9,
    "warten": -1.2,
    "warte": -1.2,
    "gewartet": -1.4,
    "wartezeit": -1.0,
    "warteschleife": -1.6,
    "wochen": -0.8,
    "monate": -0.6,
    "monaten": -0.6,
    "stunden": -0.4,
    "wieder": -0.3,
    "teuer": -1.9,
    "teurer": -1.4,
    "überteuert": -2.3,
    "preiserhöhung": -1.6,
    "abzocke": -2.8,
    "versteckte kosten": -2.2,
    "versteckte": -1.2,
    "gebühr": -0.6,
    "gebühren": -0.8,
    "kaputt": -2.0,
    "defekt": -2.0,
    "beschädigt": -2.0,
    "eingedrückt": -1.2,
    "zerkratzt": -1.4,
    "dreckig": -1.7,
    "schmutzig": -1.6,
    "falsch": -1.8,
    "falsche": -1.8,
    "falscher": -1.8,
    "fehler": -1.6,
    "fehlerhaft": -1.9,
    "problem": -1.5,
    "probleme": -1.5,
    "problematisch": -1.6,
    "schwierig": -1.5,
    "schwer": -1.0,
    "kompliziert": -1.7,
    "umständlich": -1.8,
    "unübersichtlich": -1.6,
    "chaotisch": -2.0,
    "chaos": -2.0,
    "nervig": -1.9,
    "nervt": -1.9,
    "mühsam": -1.7,
    "aufwand": -0.9,
    "aufwendig": -1.2,
    "stress": -1.4,
    "stressig": -1.6,
    "beschwerde": -1.2,
    "beschwerden": -1.2,
    "reklamation": -1.0,
    "kündigung": -0.8,
    "kündigen": -1.0,
    "gekündigt": -1.4,
    "abgelaufen": -1.3,
    "abgestürzt": -1.8,
    "stürzt": -1.8,
    "hakt": -1.0,
    "hängt": -0.8,
    "ignoriert": -1.9,
    "vergessen": -1.3,
    "verloren": -1.5,
    "fehlt": -1.2,
    "nachgelassen": -1.8,
    "auseinandergefallen": -2.3,
    "unterbesetzt": -1.8,
    "überstunden": -1.1,
    "überlastet": -1.8,
    "burnout": -2.3,
    "albtraum": -2.6,
    "alptraum": -2.6,
    "flop": -1.6,
    "weiterverbunden": -1.0,
    "aufgelegt": -1.6,
    "abgebrochen": -1.4,
    "beendet": -0.4,
    "zweimal": -0.6,
    "dreimal": -0.9,
    "viermal": -1.1,
    "mehrmals": -0.9,
    "aufgegeben": -1.8,
    "geschlossen": -0.5,
    "ständig": -0.6,
    "dauernd": -0.6,
    "mittelmäßig": -0.6,
    "geht so": -0.3,
    "passt schon": 0.2,
    "ganz okay": 0.3,
    "okay": 0.3,
    "ok": 0.3,
    "gar nichts": -1.6,
    "nie wieder": -2.8,
    "kaum zu finden": -1.6,
    "über unsere köpfe": -1.8,
    "böse überraschung": -2.3,
    "überraschung": 0.6,
    "überraschend": 0.6,
    "gutschein": 0.0,
    "nur einen gutschein": -1.4,
    "stehen lassen": -1.2,
    "im regen": -1.0,
}

DE_NEGATORS = words(
    """nicht kein keine keinen keinem keiner keines nie niemals niemand niemandem
    nichts ohne weder nirgends kaum"""
) | {"ohne dass", "kaum jemand"}

DE_BOOSTERS: dict[str, float] = {
    "sehr": 0.3,
    "total": 0.3,
    "echt": 0.3,
    "wirklich": 0.3,
    "extrem": 0.4,
    "absolut": 0.4,
    "äußerst": 0.4,
    "besonders": 0.3,
    "richtig": 0.2,
    "ganz": 0.2,
    "recht": 0.2,
    "so": 0.2,
    "viel": 0.3,
    "stark": 0.3,
    "überhaupt": 0.3,
    "immer": 0.1,
    "etwas": -0.4,
    "bisschen": -0.4,
    "leicht": -0.3,
    "ziemlich": 0.1,
    "eher": -0.3,
}

DE_ADVERSATIVE = frozenset(
    {"aber", "jedoch", "allerdings", "trotzdem", "dennoch", "dafür", "sondern"}
)
DE_CONCESSIVE = frozenset({"obwohl", "obgleich", "wenngleich", "zwar", "auch wenn"})
DE_STILL = frozenset({"immer noch", "noch immer", "nach wie vor"})
DE_WIDE_NEGATORS = frozenset({"niemand", "keiner", "weder", "ohne dass", "kaum jemand"})
DE_TRAILING_NEGATORS = frozenset({"nicht", "nie", "niemals"})
DE_WISH = frozenset({"wäre", "wären", "würde helfen", "würden helfen", "hätte", "hätten"})
DE_TOO = frozenset({"zu", "viel zu"})
# "zu" is also "to" ("zu finden", "zu Hause"): it means "too" only before these.
DE_TOO_TARGETS = words(
    """teuer spät lang lange hoch langsam kompliziert klein groß wenig wenige kurz laut
    oft selten schwer umständlich viel viele früh eng weit dünn teure hohe"""
)

EXPECTED_DE = words(
    """antwort antworten geantwortet beantwortet beantworten rückruf zurückgerufen
    zurückrufen erstattung erstattet rückerstattung geld angekommen ankommen kam kommt
    geliefert gemeldet geholfen helfen hilfe reparieren repariert gelöst funktioniert
    geklappt anerkennung gehört informiert bescheid akzeptiert verstanden bestätigung
    lösung reaktion"""
)

# Money, and what a price does when it is bad news.
MONEY_WORDS = words(
    """price prices pricing renewal bill billing invoice charge charged charges fee fees
    cost costs subscription preis preise rechnung kosten verlängerung gebühr gebühren
    abo beitrag tarif"""
)
INCREASE_WORDS = words(
    """up increase increased increases rise rose doubled double higher erhöht erhöhung
    gestiegen verdoppelt doppelt höher"""
)

# "Problem" next to its resolution is not a complaint: "problem solved", "fix my problem".
TROUBLE_WORDS = frozenset({"problem", "problems", "issue", "issues", "probleme", "anliegen"})
RESOLVED_WORDS = words(
    """solved resolved fixed fix sorted solve resolve gelöst behoben erledigt repariert
    lösen beheben"""
)

# A word whose feeling turns with a word of its clause: (the context words, the valence).
_LAST = frozenset({"last", "lasts", "lasted", "hält", "halten", "hielt", "gehalten", "hält's"})
IN_CONTEXT: dict[str, tuple[frozenset[str], float]] = {
    "forever": (_LAST, 2.2),
    "ewig": (_LAST, 2.2),
    "ages": (_LAST, 2.0),
}
