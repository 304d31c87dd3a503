"""The REST API: one router at /api/v1/, the base viewset, and the core's endpoints.

Every viewset derives from ``OrgViewSet``: its queryset comes from a selector given the
request's organization (the key's, or the session's active membership), so the API's
access rule is the UI's. Authentication, permission and errors: ``cxplatform.rest``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework import generics, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from cxplatform import rest, schema, selectors, services  # noqa: F401 - schema registers the key scheme
from cxplatform.models import TIME_ZONE_CHOICES, ApiKey, Employee, Organization, Role, Team

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False

# The 400 of a DELETE that a business rule can refuse (the row is still in use).
REFUSED = OpenApiResponse(
    rest.ErrorSerializer, description="Refused: the row is still in use (`detail` says why)."
)


class OrgViewSet(viewsets.ModelViewSet):
    """Base for every API viewset: rows of the request's organization only.

    Subclasses implement ``get_org_queryset(org)`` (usually a selector) and route their
    writes through services in ``perform_create`` / ``perform_update`` / ``perform_destroy``.
    """

    write_role = Role.MANAGER

    def get_org_queryset(self, org: Any) -> Any:
        raise TypeError(f"{type(self).__name__} must define get_org_queryset(org).")

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request org
            return self.queryset.none() if self.queryset is not None else None
        return self.get_org_queryset(self.request.org)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["org"] = getattr(self.request, "org", None)
        return context

    @property
    def actor(self) -> services.Actor:
        return services.Actor.from_request(self.request)


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = ["created_at"]

    def validate_name(self, value: str) -> str:
        org = self.context["org"]
        clash = Team.objects.for_org(org).filter(name__iexact=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("A team with this name already exists.")
        return value


class TeamViewSet(OrgViewSet):
    """Teams own touchpoints and work cases."""

    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    write_role = Role.ADMIN
    filterset_fields = {"name": ["exact", "icontains"]}
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at"]

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.team_list(org=org)

    def perform_create(self, serializer: TeamSerializer) -> None:
        serializer.instance = services.team_create(
            org=self.request.org, actor=self.actor, **serializer.validated_data
        )

    def perform_update(self, serializer: TeamSerializer) -> None:
        serializer.instance = services.team_update(
            team=serializer.instance, data=serializer.validated_data, actor=self.actor
        )

    def perform_destroy(self, instance: Team) -> None:
        services.team_delete(team=instance, actor=self.actor)


router.register("teams", TeamViewSet, basename="team")


class EmployeeSerializer(serializers.ModelSerializer):
    team = rest.OrgRelatedField(Team, required=False, allow_null=True)
    manager = rest.OrgRelatedField(
        Employee, required=False, allow_null=True, help_text="Another employee's id."
    )

    class Meta:
        model = Employee
        fields = ["id", "name", "email", "external_id", "team", "manager", "active", "created_at"]
        read_only_fields = ["created_at"]


class EmployeeViewSet(OrgViewSet):
    """The people whose work customers rate: answers are attributed to them, scorecards
    reward them. ``external_id`` (your HR or CRM id) is unique when given; deactivate
    (``active`` false) rather than delete to keep past attributions."""

    queryset = Employee.objects.all()
    serializer_class = EmployeeSerializer
    filterset_fields = {
        "name": ["exact", "icontains"],
        "external_id": ["exact"],
        "active": ["exact"],
        "team": ["exact"],
    }
    search_fields = ["name", "email", "external_id"]
    ordering_fields = ["name", "created_at"]

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.employee_list(org=org)

    def perform_create(self, serializer: EmployeeSerializer) -> None:
        serializer.instance = services.employee_create(
            org=self.request.org, actor=self.actor, **serializer.validated_data
        )

    def perform_update(self, serializer: EmployeeSerializer) -> None:
        serializer.instance = services.employee_update(
            employee=serializer.instance, data=serializer.validated_data, actor=self.actor
        )

    def perform_destroy(self, instance: Employee) -> None:
        services.employee_delete(employee=instance, actor=self.actor)


router.register("employees", EmployeeViewSet, basename="employee")


class OrganizationSerializer(serializers.ModelSerializer):
    time_zone = serializers.CharField(
        max_length=64,
        help_text="An IANA time zone, e.g. Europe/Berlin. Staff pages show times in it.",
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "time_zone", "default_locale", "sender_name", "created_at"]
        read_only_fields = ["slug", "created_at"]

    def validate_time_zone(self, value: str) -> str:
        if value not in _TIME_ZONES:
            raise serializers.ValidationError(f"“{value}” is not a known time zone.")
        return value


_TIME_ZONES = frozenset(name for name, _ in TIME_ZONE_CHOICES)


class OrganizationView(generics.RetrieveUpdateAPIView):
    """The organization of the key (or of the signed-in member): its name, time zone,
    default language and sender name. Admin keys may change them (PATCH)."""

    serializer_class = OrganizationSerializer
    write_role = Role.ADMIN
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Organization:
        return selectors.organization(org=self.request.org)

    def perform_update(self, serializer: OrganizationSerializer) -> None:
        serializer.instance = services.organization_update(
            org=serializer.instance,
            data=serializer.validated_data,
            actor=services.Actor.from_request(self.request),
        )


class ApiDocsView(SpectacularSwaggerView):
    """The Swagger UI, from local files, with its start-up script under the page's CSP
    nonce (the stock template's inline script would be blocked)."""

    template_name = "cxplatform/api_docs.html"


class MeView(APIView):
    """Who is calling: the organization, the role, and the key or user."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "organization": inline_serializer(
                    "MeOrganization",
                    {
                        "id": serializers.IntegerField(),
                        "name": serializers.CharField(),
                        "slug": serializers.CharField(),
                        "time_zone": serializers.CharField(),
                    },
                ),
                "role": serializers.CharField(),
                "api_key": serializers.CharField(allow_null=True),
                "user": serializers.CharField(allow_null=True),
            },
        )
    )
    def get(self, request: Request) -> Response:
        org = request.org
        key = request.auth if isinstance(request.auth, ApiKey) else None
        return Response(
            {
                "organization": {
                    "id": org.pk,
                    "name": org.name,
                    "slug": org.slug,
                    "time_zone": org.time_zone,
                },
                "role": request.role,
                "api_key": key.name if key else None,
                "user": None if key else request.user.get_username(),
            }
        )
