"""Factories of the feedback domain. ``XFactory(organization=org)`` builds a whole tree
inside ``org`` (the tenant-isolation walk relies on it)."""

from __future__ import annotations

import factory
from django.utils import timezone

from feedback import tokens
from feedback.models import (
    Answer,
    Campaign,
    Contact,
    ContactImport,
    Invitation,
    PipelineStep,
    Question,
    Response,
    Segment,
    Survey,
)
from feedback.scoring import QuestionType, category_for
from tests.factories import OrganizationFactory

SAME_ORG = factory.SelfAttribute("..organization")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    # Not Faker's random names: a search test looking for "ann" or "bob" must not also
    # find a "Joanna" or a "Bobby" the factory happened to draw.
    name = factory.Sequence(lambda n: f"Customer {n}")
    locale = "en"


class ContactImportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactImport

    organization = factory.SubFactory(OrganizationFactory)
    filename = "contacts.csv"
    content = b"email,name\nann@example.com,Ann\n"


class SurveyFactory(factory.django.DjangoModelFactory):
    """An NPS survey with its primary question and a comment question."""

    class Meta:
        model = Survey
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Survey {n}")
    kind = "nps"
    status = "active"
    title = "How did we do?"

    @factory.post_generation
    def questions(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create or extracted is False:
            return
        Question.objects.create(
            organization=self.organization,
            survey=self,
            type=QuestionType.NPS,
            is_primary=True,
            required=True,
            position=0,
            text="How likely are you to recommend us to a friend or colleague?",
            low_label="Not at all likely",
            high_label="Extremely likely",
        )
        Question.objects.create(
            organization=self.organization,
            survey=self,
            type=QuestionType.TEXT,
            position=1,
            text="What is the main reason for your score?",
        )


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    organization = factory.SubFactory(OrganizationFactory)
    survey = factory.SubFactory(SurveyFactory, organization=SAME_ORG, questions=False)
    type = QuestionType.CSAT
    text = factory.Sequence(lambda n: f"Question {n}?")
    position = factory.Sequence(lambda n: n + 10)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Segment {n}")
    filter = {"attributes": {"plan": "pro"}}


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    survey = factory.SubFactory(SurveyFactory, organization=SAME_ORG)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    contact = factory.SubFactory(ContactFactory, organization=SAME_ORG)
    survey = factory.SubFactory(SurveyFactory, organization=SAME_ORG)
    token = factory.LazyAttribute(lambda o: tokens.new(o.organization.pk))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=30))


class ResponseFactory(factory.django.DjangoModelFactory):
    """A completed NPS response (score 9 unless given), with its primary answer."""

    class Meta:
        model = Response
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    survey = factory.SubFactory(SurveyFactory, organization=SAME_ORG)
    contact = factory.SubFactory(ContactFactory, organization=SAME_ORG)
    channel = "email"
    primary_type = QuestionType.NPS
    primary_score = 9
    category = factory.LazyAttribute(lambda o: category_for(o.primary_type, o.primary_score))
    completed = True
    submitted_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def answers(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create or extracted is False or self.primary_score is None:
            return
        question = self.survey.questions.filter(is_primary=True).first()
        if question is not None:
            Answer.objects.create(
                organization=self.organization,
                response=self,
                question=question,
                question_text=question.text,
                question_type=question.type,
                value_number=self.primary_score,
            )


class PipelineStepFactory(factory.django.DjangoModelFactory):
    """A failed after-response step (open rows are what the API lists)."""

    class Meta:
        model = PipelineStep

    organization = factory.SubFactory(OrganizationFactory)
    response = factory.SubFactory(ResponseFactory, organization=SAME_ORG)
    step = "sentiment"
    status = "failed"
    attempts = 5
    last_error = "RuntimeError: boom"
