"""Staff pages of the core: dashboard shell, organization switcher, settings, mailbox."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from cxplatform import db, extensions, mail, queue, selectors, services, tenancy
from cxplatform.forms import ApiKeyForm, EmployeeForm, MemberForm, OrganizationForm, TeamForm
from cxplatform.http import AuthedRequest
from cxplatform.models import MailboxMessage, Role
from cxplatform.tenancy import org_member_required


@require_GET
@org_member_required()
def dashboard(request: AuthedRequest) -> HttpResponse:
    # Figures and charts only: they may come from the read replica (cxplatform.db).
    with db.replica():
        context = {
            "sections": _dashboard_parts(request, "cards"),
            "panels": _dashboard_parts(request, "panels"),
        }
        return render(request, "cxplatform/dashboard.html", context)


def _dashboard_parts(request: AuthedRequest, part: str) -> list[dict]:
    """What the installed apps contribute to the dashboard: ``dashboard.cards`` (the
    figures at the top) and ``dashboard.panels`` (each a dict naming its ``template``)."""
    return extensions.collect(f"dashboard.{part}", org=request.org)


@require_POST
@login_required
def organization_switch(request: AuthedRequest) -> HttpResponse:
    membership = get_object_or_404(
        selectors.memberships_of(user=request.user),
        organization_id=request.POST.get("organization"),
    )
    tenancy.activate(request, membership)
    messages.success(request, f"Now working in {membership.organization.name}.")
    target = request.POST.get("next") or reverse("dashboard")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboard")
    return redirect(target)


@require_http_methods(["GET", "POST"])
@org_member_required()
def settings_home(request: AuthedRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, instance=selectors.organization(org=request.org))
    status = 200
    if request.method == "POST":
        tenancy.require_role(request, Role.ADMIN)
        status = 422
        if form.is_valid():
            services.organization_update(
                org=request.org, data=form.cleaned_data, actor=services.Actor.from_request(request)
            )
            messages.success(request, "Organization settings saved.")
            return redirect("settings_home")
    context = {"form": form, **_worker_status()}
    return render(request, "cxplatform/settings_home.html", context, status=status)


def _worker_status() -> dict[str, object]:
    """What includes/worker_status.html shows: in-process tasks, or the last heartbeat."""
    return {"heartbeat": selectors.last_heartbeat(), "eager": queue.is_eager()}


@require_http_methods(["GET", "POST"])
@org_member_required()
@vary_on_headers("HX-Request")
def member_list(request: AuthedRequest) -> HttpResponse:
    form = MemberForm(request.POST or None, org=request.org)
    status = 200
    if request.method == "POST":
        tenancy.require_role(request, Role.ADMIN)
        if form.is_valid():
            membership, invited = services.member_add(
                org=request.org, actor=services.Actor.from_request(request), **form.cleaned_data
            )
            text = f"{membership.user.email} now has the {membership.get_role_display()} role."
            if invited:
                text += " We emailed them a link to choose their password."
            messages.success(request, text)
            form = MemberForm(org=request.org)
        else:
            status = 422
    template = "cxplatform/member_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#members-panel"
    members = selectors.membership_list(org=request.org)
    context = {"form": form, "members": members, "roles": Role.choices}
    return render(request, template, context, status=status)


@require_POST
@org_member_required(Role.ADMIN)
def member_invite(request: AuthedRequest, pk: int) -> HttpResponse:
    """Send the invitation again (it was lost, or its link expired)."""
    membership = get_object_or_404(selectors.membership_list(org=request.org), pk=pk)
    if membership.user.has_usable_password():
        messages.info(request, f"{membership.user.email} has already chosen a password.")
    else:
        services.member_invite(membership=membership, actor=services.Actor.from_request(request))
        messages.success(request, f"Invitation sent again to {membership.user.email}.")
    return redirect("member_list")


@require_POST
@org_member_required(Role.ADMIN)
def member_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(selectors.membership_list(org=request.org), pk=pk)
    if membership.user_id == request.user.pk:
        messages.error(request, "You cannot remove yourself.")
    else:
        services.membership_remove(
            membership=membership, actor=services.Actor.from_request(request)
        )
        messages.success(request, f"{membership.user.email} was removed.")
    return redirect("member_list")


@require_http_methods(["GET", "POST"])
@org_member_required()
@vary_on_headers("HX-Request")
def team_list(request: AuthedRequest) -> HttpResponse:
    form = TeamForm(request.POST or None, org=request.org)
    status = 200
    if request.method == "POST":
        tenancy.require_role(request, Role.ADMIN)
        if form.is_valid():
            team = services.team_create(
                org=request.org, actor=services.Actor.from_request(request), **form.cleaned_data
            )
            messages.success(request, f"Team {team.name} created.")
            form = TeamForm(org=request.org)
        else:
            status = 422
    template = "cxplatform/team_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#teams-panel"
    teams = selectors.team_list(org=request.org)
    return render(request, template, {"form": form, "teams": teams}, status=status)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.ADMIN)
def team_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.team_list(org=request.org), pk=pk)
    form = TeamForm(request.POST or None, instance=team, org=request.org)
    if request.method == "POST" and form.is_valid():
        services.team_update(
            team=selectors.team_list(org=request.org).get(pk=pk),
            data=form.cleaned_data,
            actor=services.Actor.from_request(request),
        )
        messages.success(request, "Team saved.")
        return redirect("team_list")
    status = 422 if form.errors else 200
    return render(request, "cxplatform/team_edit.html", {"form": form, "team": team}, status=status)


@require_POST
@org_member_required(Role.ADMIN)
def team_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.team_list(org=request.org), pk=pk)
    services.team_delete(team=team, actor=services.Actor.from_request(request))
    messages.success(request, f"Team {team.name} deleted.")
    return redirect("team_list")


@require_GET
@org_member_required(Role.ADMIN)
def background_work(request: AuthedRequest) -> HttpResponse:
    """What the workers are doing for this organization, and what failed: each installed
    app contributes its section (``background.sections``)."""
    context = {
        "sections": extensions.collect("background.sections", org=request.org),
        **_worker_status(),
    }
    return render(request, "cxplatform/background_work.html", context)


EMPLOYEES_PER_PAGE = 50


@require_http_methods(["GET", "POST"])
@org_member_required()
@vary_on_headers("HX-Request")
def employee_list(request: AuthedRequest) -> HttpResponse:
    """The employees, searchable and paged, with a form to add one (managers and up)."""
    form = EmployeeForm(request.POST or None, org=request.org)
    status = 200
    if request.method == "POST":
        tenancy.require_role(request, Role.MANAGER)
        if form.is_valid():
            try:
                employee = services.employee_create(
                    org=request.org, actor=services.Actor.from_request(request), **form.cleaned_data
                )
            except ValidationError as exc:  # a rule the database holds (external id)
                form.add_error(None, exc)
            else:
                messages.success(request, f"{employee.name} added.")
                form = EmployeeForm(org=request.org)
        if form.errors:
            status = 422
    query = request.GET.get("q", "").strip()[:100]
    employees = selectors.employee_list(org=request.org)
    if query:
        employees = employees.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(external_id=query)
        )
    page = Paginator(employees, EMPLOYEES_PER_PAGE).get_page(request.GET.get("page"))
    template = "cxplatform/employee_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#employees-panel"
    context = {"form": form, "page": page, "query": query}
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@org_member_required(Role.MANAGER)
def employee_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(selectors.employee_list(org=request.org), pk=pk)
    form = EmployeeForm(request.POST or None, instance=employee, org=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            services.employee_update(
                employee=selectors.employee_list(org=request.org).get(pk=pk),
                data=form.cleaned_data,
                actor=services.Actor.from_request(request),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Employee saved.")
            return redirect("employee_list")
    status = 422 if form.errors else 200
    context = {"form": form, "employee": employee}
    return render(request, "cxplatform/employee_edit.html", context, status=status)


@require_POST
@org_member_required(Role.MANAGER)
def employee_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    employee = get_object_or_404(selectors.employee_list(org=request.org), pk=pk)
    services.employee_delete(employee=employee, actor=services.Actor.from_request(request))
    messages.success(request, f"{employee.name} removed.")
    return redirect("employee_list")


@require_http_methods(["GET", "POST"])
@org_member_required(Role.ADMIN)
def api_key_list(request: AuthedRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        key, new_key = services.api_key_create(
            org=request.org,
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            actor=services.Actor.from_request(request),
        )
        messages.success(request, f"API key “{key.name}” created. Copy it now: it is shown once.")
        form = ApiKeyForm()
    keys = selectors.api_key_list(org=request.org)
    return render(
        request, "cxplatform/api_key_list.html", {"form": form, "keys": keys, "new_key": new_key}
    )


@require_POST
@org_member_required(Role.ADMIN)
def api_key_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(selectors.api_key_list(org=request.org), pk=pk)
    services.api_key_revoke(key=key, actor=services.Actor.from_request(request))
    messages.success(request, f"API key “{key.name}” revoked.")
    return redirect("api_key_list")


@require_GET
@org_member_required(Role.ADMIN)
@vary_on_headers("HX-Request")
def audit_log(request: AuthedRequest) -> HttpResponse:
    events = selectors.audit_list(org=request.org)
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 30).get_page(request.GET.get("page"))
    template = "cxplatform/audit_log.html"
    if request.htmx and not request.htmx.boosted:
        template += "#events"
    return render(request, template, {"page": page, "action": action})


def _mailbox_enabled() -> bool:
    from django.conf import settings

    return settings.MAILERS["default"]["BACKEND"] == "cxplatform.mail.MailboxBackend"


@require_GET
@org_member_required()
@vary_on_headers("HX-Request")
def mailbox(request: AuthedRequest) -> HttpResponse:
    """The demo mailbox: what would have gone out by email (only without EMAIL_URL)."""
    if not _mailbox_enabled():
        raise Http404("The mailbox exists only in the demo (no EMAIL_URL).")
    messages_qs = MailboxMessage.objects.all()
    q = request.GET.get("q", "").strip()
    if q:
        messages_qs = messages_qs.filter(recipients__icontains=q) | messages_qs.filter(
            subject__icontains=q
        )
    page = Paginator(messages_qs, 25).get_page(request.GET.get("page"))
    template = "cxplatform/mailbox.html"
    if request.htmx and not request.htmx.boosted:
        template += "#messages-table"
    return render(request, template, {"page": page, "q": q})


@require_GET
@org_member_required()
def mailbox_message(request: AuthedRequest, pk: int) -> HttpResponse:
    if not _mailbox_enabled():
        raise Http404("The mailbox exists only in the demo (no EMAIL_URL).")
    message = get_object_or_404(MailboxMessage, pk=pk)
    return render(request, "cxplatform/mailbox_message.html", {"message": message})


@require_GET
@org_member_required()
def mailbox_message_html(request: AuthedRequest, pk: int) -> HttpResponse:
    """The HTML part alone, shown in a sandboxed iframe (the email's own styles)."""
    if not _mailbox_enabled():
        raise Http404
    message = get_object_or_404(MailboxMessage, pk=pk)
    response = HttpResponse(mail.mailbox_html(message.html_body or "<p>(no HTML part)</p>"))
    # No script ever runs in the email (the iframe's sandbox does not allow scripts either).
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


def coming_soon(request: AuthedRequest, *, title: str, icon: str, text: str) -> HttpResponse:
    return render(
        request, "cxplatform/coming_soon.html", {"title": title, "icon": icon, "text": text}
    )


def error_404(request: AuthedRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return render(request, "404.html", status=404)


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any unknown path under /api/: the API's JSON error body, never the HTML page.

    A path missing only its final slash is redirected for GET (as APPEND_SLASH would) and
    named in the error otherwise, since a redirect would lose a POST's body.
    """
    path = request.path
    if not path.endswith("/") and _resolves(path + "/"):
        if request.method in {"GET", "HEAD"}:
            query = request.META.get("QUERY_STRING", "")
            return redirect(path + "/" + (f"?{query}" if query else ""), permanent=True)
        detail = f"No endpoint at {path}. API paths end with a slash: {path}/"
    else:
        detail = f"No endpoint at {path}. The endpoints are listed at {reverse('api:docs')}."
    return JsonResponse({"code": "not_found", "detail": detail}, status=404)


def _resolves(path: str) -> bool:
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False


def error_500(request: AuthedRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
