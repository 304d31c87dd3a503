"""Staff pages of journeys: the list, the journey map with its inline editing, and the
touchpoint page. Everyone in the organization reads; managers (and admins) write.

The map is one fragment (``journey_map.html#map``). Every inline write through htmx
answers with that fragment, so a move, an addition or a deletion is shown as the server
sees it, without a page reload. Without htmx, the same URLs take ordinary form posts and
redirect back to the map.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from cxplatform import extensions
from cxplatform.http import AuthedRequest
from cxplatform.models import Role
from cxplatform.services import Actor
from cxplatform.tenancy import org_member_required
from journeys import forms, selectors, services
from journeys.models import PHASE_HINTS, Journey, Phase, Stage, Touchpoint

MAP_TEMPLATE = "journeys/journey_map.html"


def _is_htmx(request: AuthedRequest) -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def _journey(request: AuthedRequest, pk: int) -> Journey:
    return get_object_or_404(selectors.journey_qs(org=request.org), pk=pk)


def _stage(request: AuthedRequest, pk: int) -> Stage:
    return get_object_or_404(selectors.stage_list(org=request.org), pk=pk)


def _touchpoint(request: AuthedRequest, pk: int) -> Touchpoint:
    return get_object_or_404(selectors.touchpoint_list(org=request.org), pk=pk)


def _phase_guide() -> list[tuple[str, str, str]]:
    """(value, label, hint) of each phase, in order, for legends and the create form."""
    return [(phase.value, phase.label, PHASE_HINTS[phase]) for phase in Phase]


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- the list --------------------------------------------------------------------------


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def journey_list(request: AuthedRequest) -> HttpResponse:
    # NUL cannot be stored or searched in PostgreSQL text; it is never meant anyway.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    show_archived = request.GET.get("show") == "archived"
    journeys = selectors.journey_list(org=request.org, q=q, archived=show_archived)
    page = Paginator(journeys, 24).get_page(request.GET.get("page"))
    template = "journeys/journey_list.html"
    if _is_htmx(request):
        template += "#results"
    context = {
        "page": page,
        "q": q,
        "show_archived": show_archived,
        "can_edit": request.membership.can(Role.MANAGER),
    }
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def journey_create(request: AuthedRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    copy_pk = request.GET.get("copy", "")
    if copy_pk.isdigit():
        source = _journey(request, int(copy_pk))
        initial = {
            "start": "copy",
            "copy_from": source.pk,
            "name": f"Copy of {source.name}"[:200],
            "persona": source.persona,
        }
    form = forms.JourneyCreateForm(request.POST or None, org=request.org, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start = data["start"]
        try:
            journey = services.journey_create(
                org=request.org,
                name=data["name"],
                persona=data["persona"],
                description=data["description"],
                template=services.BLANK if start == "copy" else start,
                copy_from=data["copy_from"] if start == "copy" else None,
                actor=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Journey “{journey.name}” created.")
            return redirect("journeys:journey_map", pk=journey.pk)
    status = 422 if form.errors else 200
    context = {"form": form, "phase_guide": _phase_guide()}
    return render(request, "journeys/journey_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def journey_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    form = forms.JourneyForm(request.POST or None, instance=journey, org=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            services.journey_update(
                journey=_journey(request, pk),
                data=form.cleaned_data,
                actor=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Journey saved.")
            return redirect("journeys:journey_map", pk=pk)
    status = 422 if form.errors else 200
    return render(
        request, "journeys/journey_form.html", {"form": form, "journey": journey}, status=status
    )


@require_POST
@org_member_required(Role.MANAGER)
def journey_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    outcome = services.journey_delete(journey=journey, actor=Actor.from_request(request))
    if outcome == services.Outcome.ARCHIVED:
        messages.info(
            request,
            f"“{journey.name}” has feedback, so it was archived rather than deleted. "
            "You can restore it from the archived journeys.",
        )
    else:
        messages.success(request, f"Journey “{journey.name}” deleted.")
    return redirect("journeys:journey_list")


@require_POST
@org_member_required(Role.MANAGER)
def journey_archive(request: AuthedRequest, pk: int) -> HttpResponse:
    journey = services.journey_archive(
        journey=_journey(request, pk), actor=Actor.from_request(request)
    )
    messages.success(request, f"“{journey.name}” archived. It keeps all its data.")
    return redirect("journeys:journey_list")


@require_POST
@org_member_required(Role.MANAGER)
def journey_restore(request: AuthedRequest, pk: int) -> HttpResponse:
    journey = services.journey_restore(
        journey=_journey(request, pk), actor=Actor.from_request(request)
    )
    messages.success(request, f"“{journey.name}” restored.")
    return redirect("journeys:journey_map", pk=journey.pk)


# --- the map ---------------------------------------------------------------------------


def _map_context(request: AuthedRequest, journey: Journey) -> dict[str, Any]:
    journey = selectors.journey_map(org=request.org).get(pk=journey.pk)
    stages = list(journey.stages.all())
    touchpoints = [tp for stage in stages for tp in stage.touchpoints.all()]
    ids = [tp.pk for tp in touchpoints]
    health = selectors.touchpoint_health(org=request.org, touchpoint_ids=ids)
    can_edit = request.membership.can(Role.MANAGER) and not journey.is_archived
    in_use = (
        selectors.touchpoint_ids_kept(org=request.org, touchpoint_ids=ids) if can_edit else set()
    )
    for tp in touchpoints:
        tp.health = health.get(tp.pk)
        tp.in_use = tp.pk in in_use
    return {
        "journey": journey,
        "stages": stages,
        "touchpoint_count": len(touchpoints),
        "archived": list(selectors.archived_touchpoints(org=request.org, journey=journey)),
        "can_edit": can_edit,
        "phase_guide": _phase_guide(),
    }


def _map_response(
    request: AuthedRequest, journey: Journey, *, announce: str = "", status: int = 200
) -> HttpResponse:
    """The map fragment, plus (out of band) the screen-reader announcement of what changed."""
    context = _map_context(request, journey)
    html = render_to_string(f"{MAP_TEMPLATE}#map", context, request)
    html += render_to_string(f"{MAP_TEMPLATE}#status", {"announce": announce, "oob": True}, request)
    response = HttpResponse(html, status=status)
    # Whatever element asked, the answer is the whole map.
    retarget(response, "#journey-map")
    return reswap(response, "outerHTML")


def _back_to_map(request: AuthedRequest, journey: Journey, announce: str = "") -> HttpResponse:
    if _is_htmx(request):
        return _map_response(request, journey, announce=announce)
    return redirect("journeys:journey_map", pk=journey.pk)


def _invalid_fragment(
    request: AuthedRequest, template: str, context: dict[str, Any]
) -> HttpResponse:
    """An invalid inline form: re-rendered in place with its errors (422)."""
    response = render(request, f"{template}#form", {**context, "inline": True}, status=422)
    retarget(response, f"#{context['form_id']}")
    return reswap(response, "outerHTML")


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def journey_map(request: AuthedRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    if _is_htmx(request):
        return _map_response(request, journey)
    return render(request, MAP_TEMPLATE, _map_context(request, journey))


# --- stages ----------------------------------------------------------------------------


def _stage_form_context(
    form: forms.StageForm, *, journey: Journey, stage: Stage | None, inline: bool
) -> dict[str, Any]:
    if stage is None:
        action = reverse("journeys:stage_create", args=[journey.pk])
    else:
        action = reverse("journeys:stage_edit", args=[stage.pk])
    return {
        "form": form,
        "journey": journey,
        "stage": stage,
        "inline": inline,
        "action": action,
        "form_id": f"stage-form-{stage.pk}" if stage else "stage-form-new",
        "map_url": reverse("journeys:journey_map", args=[journey.pk]),
    }


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def stage_create(request: AuthedRequest, pk: int) -> HttpResponse:
    journey = _journey(request, pk)
    form = forms.StageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stage = services.stage_create(
                journey=journey, actor=Actor.from_request(request), **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _back_to_map(request, journey, announce=f"Stage “{stage.name}” added.")
    context = _stage_form_context(form, journey=journey, stage=None, inline=_is_htmx(request))
    if form.errors and _is_htmx(request):
        return _invalid_fragment(request, "journeys/stage_form.html", context)
    template = "journeys/stage_form.html" + ("#form" if _is_htmx(request) else "")
    return render(request, template, context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def stage_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    stage = _stage(request, pk)
    form = forms.StageForm(request.POST or None, instance=stage)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_update(
                stage=_stage(request, pk), data=form.cleaned_data, actor=Actor.from_request(request)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _back_to_map(request, stage.journey, announce="Stage saved.")
    context = _stage_form_context(
        form, journey=stage.journey, stage=stage, inline=_is_htmx(request)
    )
    if form.errors and _is_htmx(request):
        return _invalid_fragment(request, "journeys/stage_form.html", context)
    template = "journeys/stage_form.html" + ("#form" if _is_htmx(request) else "")
    return render(request, template, context, status=422 if form.errors else 200)


@require_POST
@org_member_required(Role.MANAGER)
def stage_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    stage = _stage(request, pk)
    try:
        services.stage_delete(stage=stage, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return _back_to_map(request, stage.journey)
    messages.success(request, f"Stage “{stage.name}” deleted.")
    return _back_to_map(request, stage.journey, announce=f"Stage “{stage.name}” deleted.")


@require_POST
@org_member_required(Role.MANAGER)
def stage_move(request: AuthedRequest, pk: int) -> HttpResponse:
    stage = _stage(request, pk)
    form = forms.StageMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That move was not understood; nothing changed.")
        return _back_to_map(request, stage.journey)
    actor = Actor.from_request(request)
    if form.cleaned_data["direction"]:
        stage = services.stage_step(
            stage=stage, direction=form.cleaned_data["direction"], actor=actor
        )
    else:
        stage = services.stage_move(
            stage=stage, position=form.cleaned_data["position"], actor=actor
        )
    announce = f"Stage “{stage.name}” is now stage {stage.position + 1}."
    return _back_to_map(request, stage.journey, announce=announce)


# --- touchpoints -----------------------------------------------------------------------


def _touchpoint_form_context(
    form: forms.TouchpointForm, *, stage: Stage, touchpoint: Touchpoint | None, inline: bool
) -> dict[str, Any]:
    if touchpoint is None:
        action = reverse("journeys:touchpoint_create", args=[stage.pk])
    else:
        action = reverse("journeys:touchpoint_edit", args=[touchpoint.pk])
    return {
        "form": form,
        "stage": stage,
        "journey": stage.journey,
        "touchpoint": touchpoint,
        "inline": inline,
        "action": action,
        "form_id": f"tp-form-{touchpoint.pk}" if touchpoint else f"tp-form-new-{stage.pk}",
        "map_url": reverse("journeys:journey_map", args=[stage.journey_id]),
    }


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def touchpoint_create(request: AuthedRequest, pk: int) -> HttpResponse:
    stage = _stage(request, pk)
    form = forms.TouchpointForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            touchpoint = services.touchpoint_create(
                stage=stage, actor=Actor.from_request(request), **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            announce = f"Touchpoint “{touchpoint.name}” added to {stage.name}."
            return _back_to_map(request, stage.journey, announce=announce)
    context = _touchpoint_form_context(form, stage=stage, touchpoint=None, inline=_is_htmx(request))
    if form.errors and _is_htmx(request):
        return _invalid_fragment(request, "journeys/touchpoint_form.html", context)
    template = "journeys/touchpoint_form.html" + ("#form" if _is_htmx(request) else "")
    return render(request, template, context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def touchpoint_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    touchpoint = _touchpoint(request, pk)
    form = forms.TouchpointForm(request.POST or None, instance=touchpoint, org=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            services.touchpoint_update(
                touchpoint=_touchpoint(request, pk),
                data=form.cleaned_data,
                actor=Actor.from_request(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if _is_htmx(request):
                return _map_response(
                    request, touchpoint.stage.journey, announce="Touchpoint saved."
                )
            messages.success(request, "Touchpoint saved.")
            return redirect("journeys:touchpoint_detail", pk=pk)
    context = _touchpoint_form_context(
        form, stage=touchpoint.stage, touchpoint=touchpoint, inline=_is_htmx(request)
    )
    if form.errors and _is_htmx(request):
        return _invalid_fragment(request, "journeys/touchpoint_form.html", context)
    template = "journeys/touchpoint_form.html" + ("#form" if _is_htmx(request) else "")
    return render(request, template, context, status=422 if form.errors else 200)


@require_GET
@org_member_required()
def touchpoint_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    touchpoint = _touchpoint(request, pk)
    org = request.org
    health = selectors.touchpoint_health(org=org, touchpoint_ids=[touchpoint.pk])
    context = {
        "touchpoint": touchpoint,
        "stage": touchpoint.stage,
        "journey": touchpoint.stage.journey,
        "health": health.get(touchpoint.pk),
        # What the apps built on journeys show about it (feedback: surveys, campaigns,
        # responses), without journeys importing them.
        "panels": extensions.collect("touchpoint.panels", org=org, touchpoint=touchpoint),
        "can_edit": request.membership.can(Role.MANAGER),
    }
    return render(request, "journeys/touchpoint_detail.html", context)


@require_POST
@org_member_required(Role.MANAGER)
def touchpoint_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    touchpoint = _touchpoint(request, pk)
    journey = touchpoint.stage.journey
    outcome = services.touchpoint_delete(touchpoint=touchpoint, actor=Actor.from_request(request))
    if outcome == services.Outcome.ARCHIVED:
        text = (
            f"“{touchpoint.name}” has feedback, so it was archived rather than deleted. "
            "Restore it from the archived touchpoints below the map."
        )
    else:
        text = f"Touchpoint “{touchpoint.name}” deleted."
    messages.success(request, text)
    return _back_to_map(request, journey, announce=text)


@require_POST
@org_member_required(Role.MANAGER)
def touchpoint_restore(request: AuthedRequest, pk: int) -> HttpResponse:
    touchpoint = services.touchpoint_restore(
        touchpoint=_touchpoint(request, pk), actor=Actor.from_request(request)
    )
    text = f"“{touchpoint.name}” is back on the map, at the end of {touchpoint.stage.name}."
    messages.success(request, text)
    return _back_to_map(request, touchpoint.stage.journey, announce=text)


@require_POST
@org_member_required(Role.MANAGER)
def touchpoint_move(request: AuthedRequest, pk: int) -> HttpResponse:
    touchpoint = _touchpoint(request, pk)
    journey = touchpoint.stage.journey
    form = forms.TouchpointMoveForm(request.POST, org=request.org)
    if not form.is_valid():
        messages.error(request, "That move was not understood; nothing changed.")
        return _back_to_map(request, journey)
    data = form.cleaned_data
    actor = Actor.from_request(request)
    try:
        if data["direction"]:
            touchpoint = services.touchpoint_step(
                touchpoint=touchpoint, direction=data["direction"], actor=actor
            )
        else:
            touchpoint = services.touchpoint_move(
                touchpoint=touchpoint,
                stage=data["stage"] or touchpoint.stage,
                position=data["position"],
                actor=actor,
            )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return _back_to_map(request, journey)
    announce = (
        f"“{touchpoint.name}” is now number {touchpoint.position + 1} in {touchpoint.stage.name}."
    )
    return _back_to_map(request, journey, announce=announce)
