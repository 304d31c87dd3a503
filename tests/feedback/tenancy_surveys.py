"""Staff URLs of surveys and responses, for the tenant-isolation walk."""

from __future__ import annotations

from tests.feedback.factories import ResponseFactory, SurveyFactory
from tests.test_tenant_isolation import register_staff_rows


def _survey(org):
    return SurveyFactory(organization=org)


def _question(org):
    survey = _survey(org)
    return {"pk": survey.pk, "question_pk": survey.questions.first().pk}


register_staff_rows(
    {
        "feedback:survey_detail": lambda org: {"pk": _survey(org).pk},
        "feedback:survey_preview": lambda org: {"pk": _survey(org).pk},
        "feedback:survey_question_add": lambda org: {"pk": _survey(org).pk},
        "feedback:survey_questions_reorder": lambda org: {"pk": _survey(org).pk},
        "feedback:survey_question_edit": _question,
        "feedback:survey_question_remove": _question,
        "feedback:survey_question_move": _question,
        "feedback:survey_translations": lambda org: {"pk": _survey(org).pk, "locale": "de"},
        "feedback:response_detail": lambda org: {"pk": ResponseFactory(organization=org).pk},
        "feedback:response_mark_genuine": lambda org: {
            "pk": ResponseFactory(organization=org, flagged_automated=True).pk
        },
    }
)
