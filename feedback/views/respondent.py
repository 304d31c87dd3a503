"""The respondent pages (no login): the survey page, the one-click score link and the
thank-you page. The unsubscribe link and the open pixel live with the campaigns.

The link's token is the respondent's only credential, so these views need no CSRF
cookie (a forged cross-site POST would have to know the token, and with the token one
can answer anyway): ``csrf_exempt`` keeps the page free of cookies and scanners' GETs
harmless. A GET never changes anything; a HEAD (link checkers, some scanners) answers
as the GET would, with no body. Unknown tokens get one plain 404 page that says
nothing about other links.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from feedback.models import Invitation, Question, Response
from feedback.scoring import QuestionType, category_for, in_range
from feedback.selectors import responses as response_selectors
from feedback.selectors import surveys as survey_selectors
from feedback.services import respondent
from feedback.services.respondent import LinkClosed, LinkState, ShownQuestion


def _questions(invitation: Invitation) -> list[Question]:
    return survey_selectors.questions_for_respondent(survey=invitation.survey)


def _no_store(response: HttpResponse) -> HttpResponse:
    # A personal page: never cached by a proxy, never indexed.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    lang = context.get("lang") or translation.get_language()
    with translation.override(lang):
        response = render(request, template, {"lang": lang, **context}, status=status)
    response["Content-Language"] = lang
    return _no_store(response)


def _not_found(request: HttpRequest) -> HttpResponse:
    return _render(request, "respondent/not_found.html", {}, status=404)


def _expired(request: HttpRequest, invitation: Invitation, lang: str) -> HttpResponse:
    texts = respondent.survey_texts(invitation.survey, lang)
    return _render(
        request,
        "respondent/expired.html",
        {"lang": lang, "texts": texts, "org": invitation.organization},
        status=410,
    )


def _thanks(
    request: HttpRequest, invitation: Invitation, lang: str, *, already: bool
) -> HttpResponse:
    texts = respondent.survey_texts(invitation.survey, lang)
    return _render(
        request,
        "respondent/thanks.html",
        {"lang": lang, "texts": texts, "already": already, "org": invitation.organization},
    )


def shown_questions(
    questions: list[Question],
    lang: str,
    *,
    values: dict[int, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> list[ShownQuestion]:
    """The questions in ``lang`` with their current values and errors (also the builder's
    live preview)."""
    values, errors = values or {}, errors or {}
    shown = []
    for question in questions:
        item = respondent.shown_question(question, lang)
        value = values.get(question.pk)
        item.value = value
        item.selected = value if isinstance(value, list) else ([value] if value else [])
        item.errors = errors.get(str(question.pk), [])
        item.category = category_for(question.type, value) if isinstance(value, int) else ""
        shown.append(item)
    return shown


def _page(
    request: HttpRequest,
    invitation: Invitation,
    *,
    lang: str,
    questions: list[Question],
    values: dict[int, Any],
    errors: dict[str, list[str]] | None = None,
    oneclick: int | None = None,
    off_scale: bool = False,
    saved: bool = False,
    status: int = 200,
) -> HttpResponse:
    survey = invitation.survey
    shown = shown_questions(questions, lang, values=values, errors=errors)
    primary = next((q for q in shown if q.question.is_primary), None)
    return _render(
        request,
        "respondent/survey.html",
        {
            "lang": lang,
            "org": invitation.organization,
            "survey": survey,
            "texts": respondent.survey_texts(survey, lang),
            "questions": shown,
            "primary": primary,
            "errors": errors or {},
            "oneclick": oneclick,
            "off_scale": off_scale,
            "saved": saved,
            "action": reverse("feedback:respondent_survey", args=[invitation.token]),
        },
        status=status,
    )


def _open(token: str) -> tuple[Invitation | None, Response | None]:
    invitation = response_selectors.invitation_by_token(token)
    if invitation is None:
        return None, None
    return invitation, response_selectors.response_of_invitation(invitation)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """The survey. POST saves: ``_action=submit`` (Send) completes the response; anything
    else saves the answers given (the one-click confirm, or one answer as they go)."""
    if request.method == "POST":
        return _save(request, token)
    invitation, response = _open(token)
    if invitation is None:
        return _not_found(request)
    lang = respondent.locale_for(invitation)
    state = respondent.link_state(invitation, response)
    if state == LinkState.ANSWERED:
        return _thanks(request, invitation, lang, already=True)
    if state == LinkState.EXPIRED:
        return _expired(request, invitation, lang)
    values = respondent.values_of(list(response.answers.all())) if response else {}
    return _page(
        request,
        invitation,
        lang=lang,
        questions=_questions(invitation),
        values=values,
        saved=request.GET.get("saved") == "1",
    )


@require_safe
def survey_score(request: HttpRequest, token: str, score: int) -> HttpResponse:
    """The email's one-click link: the page with ``score`` chosen. It changes nothing:
    the page POSTs the score (JavaScript) or the person confirms it (no JavaScript)."""
    invitation, response = _open(token)
    if invitation is None:
        return _not_found(request)
    lang = respondent.locale_for(invitation)
    state = respondent.link_state(invitation, response)
    if state == LinkState.ANSWERED:
        return _thanks(request, invitation, lang, already=True)
    if state == LinkState.EXPIRED:
        return _expired(request, invitation, lang)
    questions = _questions(invitation)
    values = respondent.values_of(list(response.answers.all())) if response else {}
    primary = next((q for q in questions if q.is_primary), None)
    oneclick = None
    if primary is not None and in_range(primary.type, score):
        values[primary.pk] = score
        oneclick = score
    return _page(
        request,
        invitation,
        lang=lang,
        questions=questions,
        values=values,
        oneclick=oneclick,
        # A hand-edited or mangled link: say so, and let them pick from the scale.
        off_scale=primary is not None and oneclick is None,
    )


def _raw_answers(request: HttpRequest, questions: list[Question], final: bool) -> dict[int, Any]:
    """The posted answers by question id. On Send every question counts (absent = empty);
    otherwise only the questions the page says it sent (``_shown``) or that have a value."""
    post = request.POST
    shown = set()
    for value in post.getlist("_shown"):
        if value.isdigit():
            shown.add(int(value))
    raw: dict[int, Any] = {}
    for question in questions:
        name = f"q{question.pk}"
        if not (final or name in post or question.pk in shown):
            continue
        values = post.getlist(name)
        if question.type == QuestionType.MULTI_CHOICE:
            raw[question.pk] = values
        else:
            raw[question.pk] = values[-1] if values else ""
    return raw


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _save(request: HttpRequest, token: str) -> HttpResponse:
    invitation = response_selectors.invitation_by_token(token, with_organization=False)
    if invitation is None:
        if _wants_json(request):
            return _no_store(JsonResponse({"ok": False, "state": LinkState.UNKNOWN}, status=404))
        return _not_found(request)
    lang = respondent.locale_for(invitation)
    final = request.POST.get("_action") == "submit"
    oneclick = request.POST.get("_oneclick", "") not in ("", None)
    questions = _questions(invitation)
    with translation.override(lang):
        try:
            recorded, errors = respondent.answer_save(
                invitation=invitation,
                questions=questions,
                raw=_raw_answers(request, questions, final),
                final=final,
                oneclick=oneclick,
                user_agent=request.headers.get("User-Agent", ""),
                locale=lang,
            )
        except LinkClosed:
            response = response_selectors.response_of_invitation(invitation)
            if response is not None and response.completed:
                return _after_completed(request, invitation, lang)
            if _wants_json(request):
                return _no_store(
                    JsonResponse({"ok": False, "state": LinkState.EXPIRED}, status=410)
                )
            return _expired(request, invitation, lang)
    if recorded is not None and recorded.already_completed:
        return _after_completed(request, invitation, lang)
    if _wants_json(request):
        return _no_store(
            JsonResponse(
                {
                    "ok": not errors,
                    "errors": errors,
                    "completed": bool(recorded and recorded.response.completed),
                },
                status=422 if errors else 200,
            )
        )
    if errors:
        saved = recorded.response if recorded is not None else None
        values = respondent.values_of(list(saved.answers.all())) if saved else {}
        # Show what they chose and typed, even the invalid values, next to the messages.
        values.update(respondent.values_posted(questions, _raw_answers(request, questions, True)))
        return _page(
            request,
            invitation,
            lang=lang,
            questions=questions,
            values=values,
            errors=errors,
            status=422,
        )
    if final:
        return redirect("feedback:respondent_thanks", token=token, permanent=False)
    return redirect(reverse("feedback:respondent_survey", args=[token]) + "?saved=1")


def _after_completed(request: HttpRequest, invitation: Invitation, lang: str) -> HttpResponse:
    if _wants_json(request):
        return _no_store(JsonResponse({"ok": True, "completed": True, "state": LinkState.ANSWERED}))
    return redirect("feedback:respondent_thanks", token=invitation.token)


@require_safe
def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    invitation, response = _open(token)
    if invitation is None:
        return _not_found(request)
    if response is None or not response.completed:
        return redirect("feedback:respondent_survey", token=token)
    return _thanks(request, invitation, respondent.locale_for(invitation), already=False)


urlpatterns = [
    path("s/<str:token>/", survey_page, name="respondent_survey"),
    path("s/<str:token>/thanks/", survey_thanks, name="respondent_thanks"),
    path("s/<str:token>/<int:score>/", survey_score, name="respondent_score"),
]
