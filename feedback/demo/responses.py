"""Demo history: six months of survey invitations and responses (two months with
``quick``) for the demo surveys, so dashboards, feeds and contact timelines have
something true-to-life to show.

- Scores follow realistic shapes: NPS about 45 % promoters, 30 % passives, 25 %
  detractors; CSAT (and a custom survey's 1–5 rating) about 78 % satisfied; CES about
  65 % low effort. Each touchpoint has
  its own level, most improve month by month and one (the delivery) gets worse, so the
  trends and the touchpoint comparison say something.
- About half of the answers have a comment (English, and German for German speakers),
  matching the score; sentiment as the follow-up would compute it.
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

from cxplatform.models import Organization, Team
from cxplatform.services import SYSTEM
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
from feedback.services import followup, invitations
from journeys.models import Component, Touchpoint
from scorecards.models import Employee

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

# Comments by mood. Themes follow the demo journeys: shop, delivery, stores, support.
COMMENTS_EN = {
    "good": [
        "Fast delivery and the jacket fits perfectly. Great service!",
        "The staff in the store were really helpful and took their time with me.",
        "Checkout was quick and easy, no hassle at all.",
        "Excellent quality, I love the boots. Will definitely buy again.",
        "Support solved my problem on the first call. Thank you!",
        "Super friendly chat agent, answered everything in minutes.",
        "Returns were painless, refund arrived in two days.",
        "Great selection and honest advice on sizing.",
        "Everything arrived well packed and earlier than promised.",
        "I recommend you to all my hiking friends. Brilliant gear.",
        "The app makes reordering so simple. Love it.",
        "Very happy with the renewal, clear pricing and a nice loyalty discount.",
    ],
    "meh": [
        "Product is fine, delivery took a bit longer than expected.",
        "Okay overall, but the website is slow on my phone.",
        "Good gear, but prices went up noticeably this year.",
        "The store was busy and I waited a while for help.",
        "Fine, nothing special.",
        "The size guide could be clearer, I had to exchange once.",
        "Support was polite but I had to explain my issue twice.",
        "Decent, though the tracking updates were confusing.",
    ],
    "bad": [
        "My parcel arrived two weeks late and nobody told me why.",
        "The zip broke after one trip. Very disappointed with the quality.",
        "I was on hold for 40 minutes and then the call dropped.",
        "The refund still has not arrived after three weeks. Frustrating.",
        "Checkout kept failing with my card, I almost gave up.",
        "Rude staff at the store, I felt ignored.",
        "Wrong item delivered and the return label did not work.",
        "Too expensive for what you get, and the renewal price was a surprise.",
        "The website logged me out twice while paying. Terrible experience.",
        "Nobody answered my email for a week.",
    ],
}
COMMENTS_DE = {
    "good": [
        "Schnelle Lieferung, alles bestens. Danke!",
        "Sehr freundliche Beratung im Laden, gerne wieder.",
        "Top Qualität, die Jacke hält was sie verspricht.",
        "Der Support hat mir sofort geholfen.",
    ],
    "meh": [
        "Ganz okay, aber die Lieferung hat gedauert.",
        "Gute Ware, aber recht teuer.",
    ],
    "bad": [
        "Paket kam viel zu spät an und niemand hat sich gemeldet.",
        "Die Rückerstattung dauert ewig. Sehr ärgerlich.",
        "Lange Wartezeit an der Hotline, Problem nicht gelöst.",
    ],
}
IMPROVE_EN = [
    "Keep me updated when a delivery is late.",
    "Faster refunds, please.",
    "More staff in the store on Saturdays.",
    "A simpler checkout on mobile.",
    "Answer emails within a day.",
]
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
    def __init__(self) -> None:
        self.cache: dict[str, tuple[float | None, str]] = {}

    def __call__(self, text: str, locale: str) -> tuple[float | None, str]:
        if not text or locale != "en":
            return None, ""
        if text not in self.cache:
            self.cache[text] = followup.sentiment_of(text)
        return self.cache[text]


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
    sentiment = _Sentiment()
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
                token=invitations.new_token(),
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
                    org, plan, invitation, contact, submitted, levels, days, day, rng, sentiment
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
    sentiment: _Sentiment,
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
            chance = 0.65 if mood == "bad" else 0.45
            if text_questions == 1 and rng.random() < chance:
                pool = COMMENTS_DE if locale == "de" and rng.random() < 0.6 else COMMENTS_EN
                answer.value_text = rng.choice(pool[mood])
            elif text_questions == 2 and mood != "good" and locale == "en" and rng.random() < 0.3:
                answer.value_text = rng.choice(IMPROVE_EN)
            else:
                continue
            comments.append(answer.value_text)
        elif question.type in {QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE}:
            if not question.choices or rng.random() > 0.6:
                continue
            if question.type == QuestionType.SINGLE_CHOICE:
                answer.value_choices = [rng.choice(question.choices)]
            else:
                count = rng.randint(1, min(3, len(question.choices)))
                answer.value_choices = rng.sample(list(question.choices), count)
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
    compound, label = sentiment(comment, locale)
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
        locale=contact.locale,
        completed=True,
        user_agent="Mozilla/5.0 (demo)",
        started_at=submitted - timedelta(seconds=rng.randrange(20, 240)),
        submitted_at=submitted,
        followup_done_at=submitted,
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
