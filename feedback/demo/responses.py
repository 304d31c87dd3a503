"""Demo history: six months of survey invitations and responses (two months with
``quick``) for the demo surveys, so dashboards, feeds and contact timelines have
something true-to-life to show.

- Scores follow realistic shapes: NPS about 45 % promoters, 30 % passives, 25 %
  detractors; CSAT (and a custom survey's 1–5 rating) about 78 % satisfied; CES about
  65 % low effort. Each touchpoint has
  its own level, most improve month by month and one (the delivery) gets worse, so the
  trends and the touchpoint comparison say something.
- About half of the answers have a comment that answers its survey's question and fits
  the score (praise for a high one, a complaint for a low one; in German from German
  speakers when the survey has German texts); choice answers fit the score too; sentiment
  as ``feedback.sentiment`` reads the comment with its locale and score.
- Every response has its invitation (responded); other invitations were opened, only
  sent, expired, bounced or failed, so response rates are realistic too.
- Responses of service touchpoints are attributed to employees of the owning team (a few
  demo employees are created when the organization has none).
- Finally three fresh invitations are sent to the demo mailbox, for a person to answer.

The history is written with bulk inserts and marked as followed-up (rules, rollups and
points of the past are not replayed; the metrics recompute reads the responses). Safe to
run twice: skipped when the organization already has responses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cxplatform.models import Employee, Organization, Team
from cxplatform.services import SYSTEM
from feedback import sentiment
from feedback.models import (
    Answer,
    Contact,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    Question,
    Response,
    ResponseChannel,
    Survey,
    SurveyKind,
    SurveyStatus,
)
from feedback.scoring import Category, QuestionType, category_for
from feedback.services import invitations, respondent
from journeys.models import Component, Touchpoint

MONTHS = 6
QUICK_MONTHS = 2
INVITATIONS_PER_DAY = 34
QUICK_INVITATIONS_PER_DAY = 10
KIND_WEIGHTS = {SurveyKind.NPS: 5, SurveyKind.CSAT: 3, SurveyKind.CES: 2, SurveyKind.CUSTOM: 1}
# The score shape each primary question type follows (a 1–5 rating is shaped like CSAT).
SHAPE = {
    QuestionType.NPS: SurveyKind.NPS,
    QuestionType.CSAT: SurveyKind.CSAT,
    QuestionType.RATING: SurveyKind.CSAT,
    QuestionType.CES: SurveyKind.CES,
}

DEMO_EMPLOYEES = [
    ("Priya Shah", "Customer Care"),
    ("Tom Becker", "Customer Care"),
    ("Lucía Romero", "Customer Care"),
    ("Marco Bianchi", "Retail Stores"),
    ("Hanna Vogel", "Retail Stores"),
    ("Chris Okafor", "Logistics"),
    ("Elin Berg", "E-commerce"),
    ("Noah Fischer", "Billing"),
]

# What people write, by survey kind, then by the survey's text questions in order (as the
# templates word them: feedback.services.surveys.TEMPLATES), then by mood: a low score
# complains, a high one praises, the middle is lukewarm. Each answers its question.
Pools = list[dict[str, list[str]]]
COMMENTS_EN: dict[str, Pools] = {
    SurveyKind.NPS: [
        {  # What is the main reason for your score?
            "good": [
                "Great quality gear and staff who actually know hiking.",
                "Fast delivery and the jacket fits perfectly.",
                "You always sort things out quickly when something goes wrong.",
                "Fair prices, and the loyalty discount is a nice touch.",
                "My boots have lasted three seasons. Brilliant quality.",
                "Friendly, honest advice in the store, no hard selling.",
                "Returns are painless and the refund came in two days.",
                "The app makes reordering simple and the sizes are always right.",
            ],
            "meh": [
                "Good products, but prices went up noticeably this year.",
                "Fine overall, but delivery often takes longer than promised.",
                "Nice gear, but the website is slow on my phone.",
                "The store is great, the online shop less so.",
                "Decent quality, but nothing that sets you apart.",
                "Support was polite, but I had to explain my issue twice.",
            ],
            "bad": [
                "My parcel arrived two weeks late and nobody told me why.",
                "The zip broke after one trip and the warranty claim was a fight.",
                "I waited three weeks for a refund. I will not order again.",
                "Too expensive for the quality, and the renewal price was a surprise.",
                "Rude staff at the store, I felt ignored.",
                "Wrong item delivered, and support took a week to answer.",
            ],
        },
        {  # What is one thing we could do to make your experience better?
            "good": [
                "Honestly not much. Maybe a few more colours.",
                "A repair service for older gear would be great.",
                "Let me save my sizes in the app.",
                "Keep the free returns, that is why I stay.",
            ],
            "meh": [
                "Be upfront about delivery times.",
                "A faster mobile website.",
                "Size guides with real measurements.",
                "Keep prices stable for loyal customers.",
            ],
            "bad": [
                "Tell me when a delivery is late.",
                "Refund within a week, not a month.",
                "Answer emails within a day.",
                "Stand behind your products when they break.",
            ],
        },
    ],
    SurveyKind.CSAT: [
        {  # What could we have done better? (a support contact)
            "good": [
                "Nothing, the agent solved it on the first call.",
                "All good, quick and friendly.",
                "Nothing really, the chat answered everything in minutes.",
                "Keep doing what you do, it was easy.",
            ],
            "meh": [
                "A shorter wait on the hotline.",
                "I had to explain my issue twice before it was solved.",
                "An email summary of what was agreed would help.",
                "The answer was right but took two days.",
            ],
            "bad": [
                "Pick up the phone: I was on hold for 40 minutes and then the call dropped.",
                "Solve the problem instead of closing my ticket.",
                "Call back when you promise to call back.",
                "Let your agents refund without escalating everything.",
            ],
        },
    ],
    SurveyKind.CES: [
        {  # What could we have made easier? (a return)
            "good": [
                "Nothing, the return label was in the box.",
                "It was easy: dropped it at the post office and done.",
                "Nothing, the refund came two days later.",
                "All simple, the QR code label is great.",
            ],
            "meh": [
                "The return form asks for the order number twice.",
                "Finding the returns page on the website took a while.",
                "Tell me when the parcel is back at your warehouse.",
                "A pickup option instead of going to the post office.",
            ],
            "bad": [
                "The return label did not work and I had to call twice.",
                "I had to print a label myself and I do not own a printer.",
                "Three weeks and still no refund for my return.",
                "I was sent from chat to email to phone for one return.",
            ],
        },
    ],
    SurveyKind.CUSTOM: [
        {  # Anything else you would like to tell us? (the delivery)
            "good": [
                "The parcel arrived a day early and well packed.",
                "The driver was friendly and rang instead of leaving a note.",
                "Tracking was accurate to the hour.",
                "Everything arrived in perfect condition.",
            ],
            "meh": [
                "Arrived on time, but the box was a bit dented.",
                "The delivery window was very long, I waited at home all day.",
                "Fine, but the tracking updates were confusing.",
                "It came a day later than the estimate.",
            ],
            "bad": [
                "The parcel was left in the rain at the door.",
                "Two weeks late and nobody told me why.",
                "The courier marked it delivered, but it never arrived.",
                "The box was crushed and the jacket was dirty.",
            ],
        },
    ],
}
# Only the surveys that have German texts get German comments (from German speakers).
COMMENTS_DE: dict[str, Pools] = {
    SurveyKind.NPS: [
        {
            "good": [
                "Schnelle Lieferung, alles bestens. Danke!",
                "Sehr freundliche Beratung im Laden, gerne wieder.",
                "Top Qualität, die Jacke hält, was sie verspricht.",
            ],
            "meh": [
                "Gute Ware, aber recht teuer.",
                "Ganz okay, aber die Lieferung hat gedauert.",
            ],
            "bad": [
                "Paket kam viel zu spät an und niemand hat sich gemeldet.",
                "Die Rückerstattung dauert ewig. Sehr ärgerlich.",
                "Lange Wartezeit an der Hotline, Problem nicht gelöst.",
            ],
        },
        {
            "good": ["Eigentlich nichts, weiter so.", "Mehr Farben wären schön."],
            "meh": ["Ehrliche Lieferzeiten angeben.", "Die Preise stabil halten."],
            "bad": [
                "Schneller erstatten.",
                "Bescheid geben, wenn sich eine Lieferung verspätet.",
            ],
        },
    ],
}
# Choice answers that fit the mood, for the templates' choice questions (by their text);
# other choice questions are answered at random.
MOOD_CHOICES: dict[str, dict[str, list[str]]] = {
    "Was your question resolved?": {
        "good": ["Yes, completely"],
        "meh": ["Partly", "Yes, completely"],
        "bad": ["No", "Partly"],
    },
    "What took the most effort?": {
        "good": ["Nothing, it was easy"],
        "meh": ["Waiting", "Finding the right contact", "Repeating my information"],
        "bad": [
            "Waiting",
            "Being transferred",
            "Repeating my information",
            "Finding the right contact",
        ],
    },
}
GOOD = {Category.PROMOTER, Category.SATISFIED, Category.LOW_EFFORT, Category.POSITIVE}
BAD = {Category.DETRACTOR, Category.DISSATISFIED, Category.HIGH_EFFORT, Category.NEGATIVE}


@dataclass
class Plan:
    survey: Survey
    kind: str
    questions: list[Question]
    primary: Question
    touchpoints: list[Touchpoint]


def _mood(category: str) -> str:
    return "good" if category in GOOD else "bad" if category in BAD else "meh"


def _bucket_probabilities(kind: str, level: float) -> tuple[float, float]:
    """(share of the top bucket, share of the bottom bucket) for a touchpoint level."""
    base_top, base_bottom = {
        SurveyKind.NPS: (0.45, 0.25),
        SurveyKind.CSAT: (0.78, 0.12),
        SurveyKind.CES: (0.65, 0.20),
    }[kind]
    top = min(0.9, max(0.1, base_top + level))
    bottom = min(0.6, max(0.03, base_bottom - level * 0.8))
    return top, min(bottom, 1 - top)


def _score(rng: random.Random, kind: str, level: float) -> int:
    top, bottom = _bucket_probabilities(kind, level)
    roll = rng.random()
    bucket = "top" if roll < top else "bottom" if roll < top + bottom else "middle"
    if kind == SurveyKind.NPS:
        options = {
            "top": ([9, 10], [55, 45]),
            "middle": ([7, 8], [40, 60]),
            "bottom": ([0, 1, 2, 3, 4, 5, 6], [3, 2, 3, 5, 7, 12, 18]),
        }
    elif kind == SurveyKind.CSAT:
        options = {"top": ([4, 5], [55, 45]), "middle": ([3], [1]), "bottom": ([1, 2], [40, 60])}
    else:  # CES: 7 is "very easy"
        options = {
            "top": ([5, 6, 7], [35, 40, 25]),
            "middle": ([4], [1]),
            "bottom": ([1, 2, 3], [20, 35, 45]),
        }
    values, weights = options[bucket]
    return rng.choices(values, weights=weights)[0]


def _plans(org: Organization) -> list[Plan]:
    surveys = {}
    for survey in Survey.objects.for_org(org).filter(status=SurveyStatus.ACTIVE).order_by("id"):
        surveys.setdefault(survey.kind, survey)
    touchpoints = list(
        Touchpoint.objects.for_org(org)
        .filter(archived_at__isnull=True)
        .select_related("stage__journey", "owner_team")
    )
    plans = []
    for kind in KIND_WEIGHTS:
        survey = surveys.get(kind)
        if survey is None:
            continue
        questions = list(
            Question.objects.filter(survey=survey, archived_at__isnull=True).order_by(
                "position", "id"
            )
        )
        primary = next((q for q in questions if q.is_primary), None)
        if primary is None or primary.type not in SHAPE:
            continue
        if survey.touchpoint_id:
            fitting = [t for t in touchpoints if t.pk == survey.touchpoint_id]
        elif kind == SurveyKind.CSAT:
            fitting = [t for t in touchpoints if t.component == Component.SERVICE]
        elif kind == SurveyKind.CES:
            fitting = [t for t in touchpoints if t.component == Component.TECHNOLOGY]
        else:
            fitting = [t for t in touchpoints if t.moment_of_truth] or touchpoints
        plans.append(Plan(survey, kind, questions, primary, fitting or touchpoints))
    return plans


def _employees(org: Organization) -> dict[int | None, list[Employee]]:
    """Demo employees by team id (created once when the organization has none)."""
    if not Employee.objects.for_org(org).exists():
        teams = {t.name: t for t in Team.objects.for_org(org)}
        Employee.objects.bulk_create(
            [
                Employee(
                    organization=org,
                    name=name,
                    email=f"{name.split()[0].lower()}@northwind.example",
                    external_id=f"EMP-{n + 1:03d}",
                    team=teams.get(team),
                )
                for n, (name, team) in enumerate(DEMO_EMPLOYEES)
            ]
        )
    by_team: dict[int | None, list[Employee]] = {}
    for employee in Employee.objects.for_org(org).filter(active=True):
        by_team.setdefault(employee.team_id, []).append(employee)
    return by_team


def _response_channel(touchpoint: Touchpoint | None, link: bool) -> str:
    if not link:
        return ResponseChannel.EMAIL
    mapping = {
        "chat": ResponseChannel.CHAT,
        "sms": ResponseChannel.SMS,
        "app": ResponseChannel.APP,
        "phone": ResponseChannel.PHONE,
        "store": ResponseChannel.IN_PERSON,
        "in_person": ResponseChannel.IN_PERSON,
    }
    return mapping.get(touchpoint.channel if touchpoint else "", ResponseChannel.WEB)


class _Sentiment:
    """``feedback.sentiment.analyse``, remembered: the demo's comments repeat."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str, int | None, str], tuple[float | None, str]] = {}

    def __call__(
        self, text: str, locale: str, score: int | None, score_type: str
    ) -> tuple[float | None, str]:
        key = (text, locale, score, score_type)
        if key not in self.cache:
            self.cache[key] = sentiment.analyse(
                text, locale=locale, score=score, score_type=score_type
            )
        return self.cache[key]


def _history(org: Organization, *, quick: bool, stdout: Any) -> tuple[int, int]:
    plans = _plans(org)
    if not plans:
        if stdout:
            stdout.write("Responses: no active NPS/CSAT/CES demo survey found; skipped.")
        return 0, 0
    contacts = list(
        Contact.objects.for_org(org).only("id", "locale", "unsubscribed_at", "bounced_at")
    )
    if not contacts:
        return 0, 0
    rng = random.Random(7)
    employees = _employees(org)
    reader = _Sentiment()
    now = timezone.now()
    ttl = settings.CX_INVITATION_TTL
    days = (QUICK_MONTHS if quick else MONTHS) * 30
    per_day = QUICK_INVITATIONS_PER_DAY if quick else INVITATIONS_PER_DAY
    weights = [KIND_WEIGHTS[p.kind] for p in plans]
    # Each touchpoint's level: its own quality, a monthly drift (one gets worse).
    levels: dict[int, tuple[float, float]] = {}
    for plan in plans:
        for tp in plan.touchpoints:
            if tp.pk not in levels:
                drift = -0.03 if "deliver" in tp.name.lower() else rng.uniform(0.0, 0.02)
                levels[tp.pk] = (rng.uniform(-0.08, 0.12), drift)
    last_surveyed: dict[int, datetime] = {}
    invitation_rows: list[Invitation] = []
    pending_responses: list[tuple[int, Response, list[Answer]]] = []
    for day in range(days, 0, -1):
        weekday_factor = 0.6 if (now - timedelta(days=day)).weekday() >= 5 else 1.0
        for _ in range(int(per_day * weekday_factor * rng.uniform(0.7, 1.3))):
            plan = rng.choices(plans, weights=weights)[0]
            contact = rng.choice(contacts)
            touchpoint = rng.choice(plan.touchpoints) if plan.touchpoints else None
            created = now - timedelta(days=day, seconds=rng.randrange(8 * 3600, 20 * 3600))
            link = rng.random() < 0.2
            invitation = Invitation(
                organization=org,
                contact_id=contact.pk,
                survey=plan.survey,
                touchpoint=touchpoint,
                token=invitations.new_token(org),
                channel=InvitationChannel.LINK if link else InvitationChannel.EMAIL,
                created_at=created,
                sent_at=created + timedelta(seconds=rng.randrange(5, 300)),
                expires_at=created + ttl,
                attempts=0 if link else 1,
            )
            team_staff = employees.get(touchpoint.owner_team_id if touchpoint else None, [])
            if (
                team_staff
                and touchpoint is not None
                and touchpoint.component == Component.SERVICE
                and rng.random() < 0.75
            ):
                invitation.employee = rng.choice(team_staff)
            if contact.unsubscribed_at or contact.bounced_at:
                if link:
                    invitation.status = InvitationStatus.SENT
                else:
                    invitation.status = InvitationStatus.SUPPRESSED
                    invitation.sent_at = None
                    invitation.suppression_reason = (
                        "unsubscribed" if contact.unsubscribed_at else "bounced"
                    )
                invitation_rows.append(invitation)
                continue
            roll = rng.random()
            if not link and roll < 0.02:
                invitation.status = InvitationStatus.BOUNCED
                invitation_rows.append(invitation)
                continue
            if not link and roll < 0.03:
                invitation.status = InvitationStatus.FAILED
                invitation.sent_at = None
                invitation.attempts = 3
                invitation.last_error = "421 4.7.0 Try again later (gave up after 3 attempts)"
                invitation_rows.append(invitation)
                continue
            last_surveyed[contact.pk] = max(last_surveyed.get(contact.pk, created), created)
            opened = roll < 0.6
            responded = roll < (0.5 if link else 0.4)
            sent_at = invitation.sent_at or created
            opened_at = sent_at + timedelta(minutes=rng.randrange(2, 60 * 30))
            if opened:
                invitation.opened_at = opened_at
            if responded:
                invitation.opened_at = opened_at
                submitted = opened_at + timedelta(seconds=rng.randrange(25, 400))
                invitation.status = InvitationStatus.RESPONDED
                invitation.responded_at = submitted
                index = len(invitation_rows)
                response, answers = _response(
                    org, plan, invitation, contact, submitted, levels, days, day, rng, reader
                )
                response.channel = _response_channel(touchpoint, link)
                pending_responses.append((index, response, answers))
            elif created + ttl < now:
                invitation.status = InvitationStatus.EXPIRED
            else:
                invitation.status = InvitationStatus.OPENED if opened else InvitationStatus.SENT
            invitation_rows.append(invitation)
    with transaction.atomic():
        Invitation.objects.bulk_create(invitation_rows, batch_size=500)
        responses = []
        for index, response, _answers in pending_responses:
            response.invitation = invitation_rows[index]
            responses.append(response)
        Response.objects.bulk_create(responses, batch_size=500)
        answers = []
        for _, response, response_answers in pending_responses:
            for answer in response_answers:
                answer.response = response
                answers.append(answer)
        Answer.objects.bulk_create(answers, batch_size=1000)
        changed = Contact.objects.in_bulk(list(last_surveyed))
        for pk, when in last_surveyed.items():
            changed[pk].last_surveyed_at = when
        Contact.objects.bulk_update(list(changed.values()), ["last_surveyed_at"], batch_size=500)
    return len(invitation_rows), len(responses)


def _response(
    org: Organization,
    plan: Plan,
    invitation: Invitation,
    contact: Contact,
    submitted: datetime,
    levels: dict[int, tuple[float, float]],
    days: int,
    day: int,
    rng: random.Random,
    reader: _Sentiment,
) -> tuple[Response, list[Answer]]:
    touchpoint = invitation.touchpoint
    quality, drift = levels.get(touchpoint.pk, (0.0, 0.01)) if touchpoint else (0.0, 0.01)
    months_in = (days - day) / 30
    score = _score(rng, SHAPE[plan.primary.type], quality + drift * months_in)
    category = category_for(plan.primary.type, score)
    mood = _mood(category)
    locale = (contact.locale or "en").split("-")[0]
    answers: list[Answer] = []
    comments: list[str] = []
    text_questions = 0
    german = locale == "de" and "de" in (plan.survey.translations or {})
    pools = (COMMENTS_DE if german else COMMENTS_EN).get(plan.kind, [])
    for question in plan.questions:
        answer = Answer(
            organization=org,
            question=question,
            question_text=question.text,
            question_type=question.type,
            answered_at=submitted,
        )
        if question.is_primary:
            answer.value_number = score
        elif question.type == QuestionType.TEXT:
            text_questions += 1
            first = text_questions == 1
            chance = (0.65 if mood == "bad" else 0.45) if first else 0.25
            if text_questions > len(pools) or rng.random() >= chance:
                continue
            answer.value_text = rng.choice(pools[text_questions - 1][mood])
            comments.append(answer.value_text)
        elif question.type in {QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE}:
            if not question.choices or rng.random() > 0.6:
                continue
            fitting = [
                c
                for c in MOOD_CHOICES.get(question.text, {}).get(mood, [])
                if c in question.choices
            ] or list(question.choices)
            if question.type == QuestionType.SINGLE_CHOICE:
                answer.value_choices = [fitting[0] if rng.random() < 0.7 else rng.choice(fitting)]
            else:
                count = rng.randint(1, min(3 if mood == "bad" else 2, len(fitting)))
                chosen = set(rng.sample(fitting, count))
                answer.value_choices = [c for c in question.choices if c in chosen]
        elif question.type in {QuestionType.CSAT, QuestionType.RATING, QuestionType.CES}:
            if rng.random() > 0.5:
                continue
            low, high = (1, 7) if question.type == QuestionType.CES else (1, 5)
            shift = {"good": 1, "meh": 0, "bad": -1}[mood]
            answer.value_number = max(low, min(high, (low + high) // 2 + shift + rng.randint(0, 1)))
        elif question.type == QuestionType.NPS:
            answer.value_number = max(0, min(10, score + rng.randint(-1, 1)))
        else:
            continue
        answers.append(answer)
    comment = "\n\n".join(comments)
    # The language the page was shown in, as the respondent service picks it.
    invitation.contact = contact  # the row already loaded: no query
    shown = respondent.locale_for(invitation)
    compound, label = reader(comment, shown, score, plan.primary.type)
    response = Response(
        organization=org,
        survey=plan.survey,
        contact_id=contact.pk,
        touchpoint=touchpoint,
        employee=invitation.employee,
        channel=ResponseChannel.EMAIL,
        primary_type=plan.primary.type,
        primary_score=score,
        category=category,
        comment=comment,
        sentiment=compound,
        sentiment_label=label,
        locale=shown,
        completed=True,
        user_agent="Mozilla/5.0 (demo)",
        started_at=submitted - timedelta(seconds=rng.randrange(20, 240)),
        submitted_at=submitted,
    )
    return response, answers


def _mailbox_invitations(org: Organization) -> int:
    """Three fresh email invitations to demo contacts, for the demo mailbox."""
    sent = 0
    surveys = {s.kind: s for s in Survey.objects.for_org(org).filter(status=SurveyStatus.ACTIVE)}
    picks = [("en", SurveyKind.NPS), ("de", SurveyKind.NPS), ("en", SurveyKind.CSAT)]
    reachable = Contact.objects.for_org(org).reachable().order_by("external_id", "id")
    for n, (locale, kind) in enumerate(picks, start=1):
        survey = surveys.get(kind)
        candidates = list(reachable.filter(locale=locale).exclude(name="")[:5])
        if survey is None or not candidates:
            continue
        contact = candidates[n % len(candidates)]
        try:
            result = invitations.invitation_trigger(
                org=org,
                actor=SYSTEM,
                survey=survey,
                contact_email=contact.email,
                touchpoint=survey.touchpoint,
                external_ref=f"demo-mailbox-{n}",
            )
        except invitations.ExternalRefConflictError:
            # An earlier run sent this one to a contact who is no longer a candidate.
            continue
        sent += int(result.created)
    return sent


def seed(*, org: Organization, stdout: Any = None, quick: bool = False) -> None:
    if Response.objects.for_org(org).exists():
        if stdout:
            stdout.write("Responses: demo history already there.")
        _mailbox_invitations(org)
        return
    invited, answered = _history(org, quick=quick, stdout=stdout)
    mailed = _mailbox_invitations(org)
    if stdout and invited:
        stdout.write(
            f"Responses: {answered} answers to {invited} invitations over "
            f"{QUICK_MONTHS if quick else MONTHS} months; {mailed} invitations in the mailbox."
        )
