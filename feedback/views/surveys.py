"""Surveys: the list (with ready templates) and the builder (htmx: add, edit, reorder and
remove questions, with a live preview of the respondent's page).

Everyone in the organization may look; managers change. Every htmx action re-renders the
builder's workspace (the question list and the preview) from the same template, and
every action also works as a plain form POST with a redirect.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import translation
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cxplatform import tenancy
from cxplatform.http import AuthedRequest
from cxplatform.models import Role
from cxplatform.services import Actor
from cxplatform.tenancy import org_member_required
from feedback.forms.surveys import QuestionForm, SurveyForm
from feedback.models import Question, Survey, SurveyKind, SurveyStatus
from feedback.scoring import QuestionType
from feedback.selectors import surveys as selectors
from feedback.services import respondent, translations
from feedback.services import surveys as services

TEMPLATE_CARDS = [
    {
        "kind": SurveyKind.NPS,
        "label": "NPS survey",
        "icon": "graph-up-arrow",
        "text": "How likely are customers to recommend you (0–10)? The relationship metric.",
    },
    {
        "kind": SurveyKind.CSAT,
        "label": "CSAT survey",
        "icon": "emoji-smile",
        "text": "How satisfied were they with one interaction (1–5)? For service touchpoints.",
    },
    {
        "kind": SurveyKind.CES,
        "label": "CES survey",
        "icon": "speedometer",
        "text": "How easy was it to get done (1–7)? Effort predicts loyalty.",
    },
    {
        "kind": SurveyKind.ENPS,
        "label": "eNPS pulse",
        "icon": "people",
        "text": "Would employees recommend working here? Happy people, happy customers.",
    },
    {
        "kind": SurveyKind.CUSTOM,
        "label": "Custom survey",
        "icon": "ui-checks",
        "text": "Start from a rating and a comment, and build your own.",
    },
]


def _survey(request: AuthedRequest, pk: int) -> Survey:
    return get_object_or_404(selectors.survey_detail(org=request.org), pk=pk)


def _question(request: AuthedRequest, survey: Survey, question_pk: int) -> Question:
    return get_object_or_404(selectors.question_of(org=request.org, survey=survey), pk=question_pk)


def _actor(request: AuthedRequest) -> Actor:
    return Actor.from_request(request)


def _builder_context(
    request: AuthedRequest,
    survey: Survey,
    *,
    editing: int | None = None,
    edit_form: QuestionForm | None = None,
    add_form: QuestionForm | None = None,
    survey_form: SurveyForm | None = None,
) -> dict[str, Any]:
    questions = selectors.questions_of(survey=survey)
    return {
        "survey": survey,
        "questions": questions,
        "archived": selectors.archived_questions(survey=survey)[:20],
        "editing": editing,
        "edit_form": edit_form,
        "add_form": add_form or QuestionForm(initial={"type": QuestionType.TEXT}),
        "survey_form": survey_form or SurveyForm(instance=survey, org=request.org),
        "can_edit": request.membership.can(Role.MANAGER),
        "locales": respondent.survey_locales(survey),
        "translation_state": _translation_state(survey),
        "title": survey.name,
    }


def _translation_state(survey: Survey) -> list[dict[str, Any]]:
    """Each language of the platform but the survey's own: started or not, and how many
    texts need a translator (the survey page's "Translations" line)."""
    counts = translations.needs_translation(survey)
    return [
        {
            "code": code,
            "name": _english_name(code, name),
            "started": code in counts,
            "needs": counts.get(code, 0),
        }
        for code, name in translations.languages(survey)
    ]


def _english_name(code: str, name: str) -> str:
    return {"de": "German", "fr": "French", "en": "English"}.get(code, name)


@require_http_methods(["GET", "POST"])
@org_member_required()
def survey_translations(request: AuthedRequest, pk: int, locale: str) -> HttpResponse:
    """The translations editor: every text of the survey beside its ``locale``
    translation, what needs a translator marked. POST (managers) saves them."""
    survey = _survey(request, pk)
    names = dict(translations.languages(survey))
    if locale not in names:
        raise Http404("No such language for this survey.")
    rows = translations.rows(survey, locale)
    errors: list[str] = []
    if request.method == "POST":
        tenancy.require_role(request, Role.MANAGER)
        texts = {row.key: request.POST[row.key] for row in rows if row.key in request.POST}
        try:
            translations.survey_translations_save(
                survey=survey, locale=locale, texts=texts, actor=_actor(request)
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, f"{_english_name(locale, names[locale])} texts saved.")
            return redirect("feedback:survey_translations", pk=pk, locale=locale)
    groups: list[tuple[str, list[Any]]] = []
    for row in rows:
        if not groups or groups[-1][0] != row.group:
            groups.append((row.group, []))
        groups[-1][1].append(row)
    return render(
        request,
        "feedback/survey_translations.html",
        {
            "survey": survey,
            "locale": locale,
            "language": _english_name(locale, names[locale]),
            "groups": groups,
            "needs": sum(row.needs_translation for row in rows),
            "errors": errors,
            "can_edit": request.membership.can(Role.MANAGER),
            "others": [s for s in _translation_state(survey) if s["code"] != locale],
            "title": f"{survey.name}: translations",
        },
        status=422 if errors else 200,
    )


def _workspace(
    request: AuthedRequest, survey: Survey, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    """The builder: the whole page, or its workspace fragment for htmx."""
    template = "feedback/survey_builder.html"
    if request.htmx and not request.htmx.boosted:
        template += "#workspace"
    return render(request, template, _builder_context(request, survey, **kwargs), status=status)


def _done(request: AuthedRequest, survey: Survey, message: str | None = None) -> HttpResponse:
    if message:
        messages.success(request, message)
    if request.htmx and not request.htmx.boosted:
        survey = _survey(request, survey.pk)
        return _workspace(request, survey)
    return redirect("feedback:survey_detail", pk=survey.pk)


# ---------------------------------------------------------------------------- list


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def survey_list(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in SurveyStatus.values:
        status = ""
    surveys = selectors.survey_list(org=request.org, q=q, status=status)
    template = "feedback/survey_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#survey-table"
    return render(
        request,
        template,
        {
            "surveys": surveys,
            "q": q,
            "status": status,
            "statuses": SurveyStatus.choices,
            "cards": TEMPLATE_CARDS,
            "can_edit": request.membership.can(Role.MANAGER),
            "title": "Surveys",
        },
    )


@require_POST
@org_member_required(Role.MANAGER)
def survey_create(request: AuthedRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in services.TEMPLATES:
        messages.error(request, "Choose one of the survey templates.")
        return redirect("feedback:survey_list")
    survey = services.survey_create_from_template(org=request.org, actor=_actor(request), kind=kind)
    messages.success(
        request, f"{survey.name} created from the template. Adjust it, then activate it."
    )
    return redirect("feedback:survey_detail", pk=survey.pk)


# ---------------------------------------------------------------------------- builder


@require_http_methods(["GET", "POST"])
@org_member_required()
@vary_on_headers("HX-Request")
def survey_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The builder. POST saves the survey's own settings (name, status, touchpoint…)."""
    survey = _survey(request, pk)
    if request.method == "POST":
        tenancy.require_role(request, Role.MANAGER)
        form = SurveyForm(request.POST, instance=_survey(request, pk), org=request.org)
        if form.is_valid():
            try:
                services.survey_update(survey=survey, data=form.cleaned_data, actor=_actor(request))
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Survey settings saved.")
                return redirect("feedback:survey_detail", pk=pk)
        return render(
            request,
            "feedback/survey_builder.html",
            _builder_context(request, _survey(request, pk), survey_form=form),
            status=422,
        )
    return _workspace(request, survey)


def _add_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_POST
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def question_add(request: AuthedRequest, pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_add(
                survey=survey, actor=_actor(request), data=form.data_for_service()
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _done(request, survey, "Question added.")
    return _workspace(request, survey, add_form=form, status=422)


@require_http_methods(["GET", "POST"])
@org_member_required()
@vary_on_headers("HX-Request")
def question_edit(request: AuthedRequest, pk: int, question_pk: int) -> HttpResponse:
    """GET: the builder with this question's form open. POST: save it (see the history
    rule in feedback.services.surveys). Managers only, like every change; another
    organization's question is a 404 before the role is asked."""
    survey = _survey(request, pk)
    question = _question(request, survey, question_pk)
    tenancy.require_role(request, Role.MANAGER)
    if request.method == "GET":
        form = QuestionForm(initial=QuestionForm.initial_for(question))
        return _workspace(request, survey, editing=question.pk, edit_form=form)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            saved = services.question_update(
                question=question, data=form.data_for_service(), actor=_actor(request)
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            message = (
                "Question saved. It had answers, so the old version is kept with them."
                if saved.pk != question.pk
                else "Question saved."
            )
            return _done(request, survey, message)
    return _workspace(request, survey, editing=question.pk, edit_form=form, status=422)


@require_POST
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def question_remove(request: AuthedRequest, pk: int, question_pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    question = _question(request, survey, question_pk)
    had_answers = services.question_has_answers(question)
    services.question_remove(question=question, actor=_actor(request))
    return _done(
        request,
        survey,
        "Question archived: its answers are kept." if had_answers else "Question removed.",
    )


@require_POST
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def question_move(request: AuthedRequest, pk: int, question_pk: int) -> HttpResponse:
    survey = _survey(request, pk)
    question = _question(request, survey, question_pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    services.question_move(question=question, offset=offset, actor=_actor(request))
    return _done(request, survey)


@require_POST
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def questions_reorder(request: AuthedRequest, pk: int) -> HttpResponse:
    """The drag-and-drop order (``order`` = question ids, top to bottom)."""
    survey = _survey(request, pk)
    order = [int(v) for v in request.POST.getlist("order") if v.isdigit()]
    services.questions_reorder(survey=survey, order=order, actor=_actor(request))
    return _done(request, survey)


@require_GET
@org_member_required()
@xframe_options_sameorigin
@csp_override({**settings.SECURE_CSP, "frame-ancestors": [CSP.SELF]})
def survey_preview(request: AuthedRequest, pk: int) -> HttpResponse:
    """The respondent's page as it stands, for the builder's preview frame (``?lang=``)."""
    from feedback.views.respondent import shown_questions

    survey = _survey(request, pk)
    locales = respondent.survey_locales(survey)
    lang = request.GET.get("lang") if request.GET.get("lang") in locales else survey.default_locale
    if lang not in dict(settings.LANGUAGES):
        lang = settings.LANGUAGE_CODE
    questions = list(survey.questions.all())
    with translation.override(lang):
        return render(
            request,
            "respondent/survey.html",
            {
                "lang": lang,
                "org": request.org,
                "survey": survey,
                "texts": respondent.survey_texts(survey, lang),
                "questions": shown_questions(questions, lang),
                "errors": {},
                "oneclick": None,
                "action": "#",
                "preview": True,
            },
        )


urlpatterns = [
    path("surveys/", survey_list, name="survey_list"),
    path("surveys/new/", survey_create, name="survey_create"),
    path("surveys/<int:pk>/", survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/preview/", survey_preview, name="survey_preview"),
    path(
        "surveys/<int:pk>/translations/<str:locale>/",
        survey_translations,
        name="survey_translations",
    ),
    path("surveys/<int:pk>/questions/", question_add, name="survey_question_add"),
    path("surveys/<int:pk>/questions/order/", questions_reorder, name="survey_questions_reorder"),
    path(
        "surveys/<int:pk>/questions/<int:question_pk>/",
        question_edit,
        name="survey_question_edit",
    ),
    path(
        "surveys/<int:pk>/questions/<int:question_pk>/remove/",
        question_remove,
        name="survey_question_remove",
    ),
    path(
        "surveys/<int:pk>/questions/<int:question_pk>/move/",
        question_move,
        name="survey_question_move",
    ),
]
