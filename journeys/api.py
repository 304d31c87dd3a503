"""REST API of journeys: ``journeys/``, ``stages/`` and ``touchpoints/`` on the one router.

Reads come from ``journeys.selectors``; every write goes through ``journeys.services``, so
the API keeps the same rules as the map: dense positions, the five-phase template, deep
copies, and touchpoints with feedback archived rather than deleted.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cxplatform import rest
from cxplatform.api import REFUSED, OrgViewSet, router
from cxplatform.models import Organization, Team
from journeys import selectors, services
from journeys.models import Channel, Component, Journey, Phase, Stage, Touchpoint

# --- serializers -----------------------------------------------------------------------


class MapTouchpointSerializer(serializers.ModelSerializer):
    """A touchpoint as nested in its journey's map."""

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "name",
            "description",
            "channel",
            "component",
            "owner_team",
            "moment_of_truth",
            "position",
        ]
        read_only_fields = fields


class MapStageSerializer(serializers.ModelSerializer):
    """A stage as nested in its journey: its active touchpoints in order."""

    touchpoints = serializers.SerializerMethodField()

    class Meta:
        model = Stage
        fields = ["id", "name", "phase", "description", "position", "touchpoints"]
        read_only_fields = fields

    @extend_schema_field(MapTouchpointSerializer(many=True))
    def get_touchpoints(self, stage: Stage) -> list[dict[str, Any]]:
        rows = [tp for tp in stage.touchpoints.all() if tp.archived_at is None]
        rows.sort(key=lambda tp: (tp.position, tp.pk))
        return MapTouchpointSerializer(rows, many=True, context=self.context).data


class JourneySerializer(serializers.ModelSerializer):
    stages = MapStageSerializer(many=True, read_only=True)
    template = serializers.ChoiceField(
        choices=list(services.TEMPLATES.items()),
        write_only=True,
        required=False,
        help_text="Create only: `five_phase` makes one stage per phase (Attraction, Entry, "
        "Engagement, Exit, Extension); `blank` (the default) none. The query parameter "
        "`?template=five_phase` does the same.",
    )
    copy_from = rest.OrgRelatedField(
        Journey,
        write_only=True,
        required=False,
        help_text="Create only: the id of a journey to copy, with its stages and active "
        "touchpoints.",
    )

    class Meta:
        model = Journey
        fields = [
            "id",
            "name",
            "persona",
            "description",
            "active",
            "archived_at",
            "created_at",
            "updated_at",
            "stages",
            "template",
            "copy_from",
        ]
        read_only_fields = ["archived_at", "created_at", "updated_at"]
        # The name's uniqueness is checked in validate_name, with a message on the field.
        validators: list = []

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        clash = selectors.journey_qs(org=self.context["org"]).filter(name__iexact=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError(services.DUPLICATE_NAME)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and ({"template", "copy_from"} & set(attrs)):
            raise serializers.ValidationError(
                {"template": "Only when creating a journey.", "copy_from": "Only on create."}
            )
        return attrs


class StageSerializer(serializers.ModelSerializer):
    journey = rest.OrgRelatedField(Journey)
    position = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="0 is first. On create, default: the end. Changing it moves the stage; "
        "the others close up, so positions stay 0 … n-1.",
    )
    touchpoints = serializers.SerializerMethodField()

    class Meta:
        model = Stage
        fields = ["id", "journey", "name", "phase", "description", "position", "touchpoints"]

    @extend_schema_field(MapTouchpointSerializer(many=True))
    def get_touchpoints(self, stage: Stage) -> list[dict[str, Any]]:
        return MapStageSerializer(stage, context=self.context).data["touchpoints"]

    def validate_journey(self, value: Journey) -> Journey:
        if self.instance is not None and value.pk != self.instance.journey_id:
            raise serializers.ValidationError("A stage cannot move to another journey.")
        return value


class TouchpointSerializer(serializers.ModelSerializer):
    stage = rest.OrgRelatedField(Stage)
    owner_team = rest.OrgRelatedField(Team, required=False, allow_null=True)
    journey = serializers.IntegerField(source="stage.journey_id", read_only=True)
    phase = serializers.ChoiceField(source="stage.phase", choices=Phase.choices, read_only=True)
    position = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="0 is first within the stage. On create, default: the end. Changing it (or "
        "`stage`) moves the touchpoint; source and target stage stay dense (0 … n-1).",
    )

    class Meta:
        model = Touchpoint
        fields = [
            "id",
            "journey",
            "stage",
            "phase",
            "name",
            "description",
            "channel",
            "component",
            "owner_team",
            "moment_of_truth",
            "position",
            "archived_at",
            "created_at",
        ]
        read_only_fields = ["archived_at", "created_at"]


# --- filters ---------------------------------------------------------------------------


class ArchivedFilterMixin(django_filters.FilterSet):
    archived = django_filters.BooleanFilter(
        field_name="archived_at",
        lookup_expr="isnull",
        exclude=True,
        label="true: archived only; false: active only; absent: both.",
    )


class JourneyFilter(ArchivedFilterMixin):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Journey
        fields = ["name", "active", "archived"]


class StageFilter(django_filters.FilterSet):
    journey = rest.IdFilter(field_name="journey_id", label="Journey id.")
    phase = django_filters.ChoiceFilter(choices=Phase.choices)

    class Meta:
        model = Stage
        fields = ["journey", "phase"]


class TouchpointFilter(ArchivedFilterMixin):
    journey = rest.IdFilter(field_name="stage__journey_id", label="Journey id.")
    stage = rest.IdFilter(field_name="stage_id", label="Stage id.")
    phase = django_filters.ChoiceFilter(field_name="stage__phase", choices=Phase.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    component = django_filters.ChoiceFilter(choices=Component.choices)
    team = rest.IdFilter(field_name="owner_team_id", label="Owner team id.")

    class Meta:
        model = Touchpoint
        fields = ["journey", "stage", "phase", "channel", "component", "team", "moment_of_truth"]


# --- viewsets --------------------------------------------------------------------------

TEMPLATE_PARAMETER = OpenApiParameter(
    "template",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(services.TEMPLATES),
    description="`five_phase` creates one stage per phase, in order (Attraction, Entry, "
    "Engagement, Exit, Extension). Default: `blank`.",
)


@extend_schema_view(
    list=extend_schema(summary="List journeys, each with its stages and active touchpoints"),
    retrieve=extend_schema(summary="A journey with its stages and active touchpoints, in order"),
    create=extend_schema(
        summary="Create a journey (empty, from the five-phase template, or a copy)",
        parameters=[TEMPLATE_PARAMETER],
    ),
    update=extend_schema(summary="Change a journey's name, persona, description or active"),
    partial_update=extend_schema(summary="Change some of a journey's fields"),
)
class JourneyViewSet(OrgViewSet):
    """Customer journeys. Stages and touchpoints are read nested here and written
    through ``stages/`` and ``touchpoints/``."""

    queryset = Journey.objects.all()
    serializer_class = JourneySerializer
    filterset_class = JourneyFilter
    search_fields = ["name", "persona", "description"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def get_org_queryset(self, org: Organization) -> QuerySet[Journey]:
        return selectors.journey_map(org=org).order_by("name", "id")

    def perform_create(self, serializer: JourneySerializer) -> None:
        data = dict(serializer.validated_data)
        template = data.pop("template", None) or self.request.query_params.get(
            "template", services.BLANK
        )
        copy_from = data.pop("copy_from", None)
        if template not in services.TEMPLATES:
            raise serializers.ValidationError(
                {"template": [f"Unknown template “{template}”: use five_phase or blank."]}
            )
        journey = services.journey_create(
            org=self.request.org, actor=self.actor, template=template, copy_from=copy_from, **data
        )
        serializer.instance = self.get_org_queryset(self.request.org).get(pk=journey.pk)

    def perform_update(self, serializer: JourneySerializer) -> None:
        journey = services.journey_update(
            journey=serializer.instance, data=serializer.validated_data, actor=self.actor
        )
        serializer.instance = self.get_org_queryset(self.request.org).get(pk=journey.pk)

    @extend_schema(
        summary="Delete a journey, or archive it when it has feedback",
        responses={
            204: OpenApiResponse(description="Deleted, with its stages and touchpoints."),
            200: OpenApiResponse(
                JourneySerializer,
                description="One of its touchpoints has feedback: archived instead, kept.",
            ),
        },
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        journey = self.get_object()
        outcome = services.journey_delete(journey=journey, actor=self.actor)
        if outcome == services.Outcome.DELETED:
            return Response(status=status.HTTP_204_NO_CONTENT)
        journey = self.get_org_queryset(request.org).get(pk=journey.pk)
        return Response(self.get_serializer(journey).data)

    @extend_schema(summary="Archive a journey (keeps everything)", request=None)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        journey = services.journey_archive(journey=self.get_object(), actor=self.actor)
        return Response(self.get_serializer(journey).data)

    @extend_schema(summary="Restore an archived journey", request=None)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        journey = services.journey_restore(journey=self.get_object(), actor=self.actor)
        return Response(self.get_serializer(journey).data)


@extend_schema_view(
    list=extend_schema(summary="List stages (filter by journey, phase)"),
    create=extend_schema(summary="Add a stage to a journey (at `position`, default the end)"),
    update=extend_schema(summary="Change a stage; a new `position` moves it"),
    partial_update=extend_schema(summary="Change some of a stage's fields; `position` moves it"),
    destroy=extend_schema(
        summary="Delete a stage and its touchpoints (refused while one has feedback)",
        responses={204: None, 400: REFUSED},
    ),
)
class StageViewSet(OrgViewSet):
    """The stages of journeys, each in one of the five phases, in order."""

    queryset = Stage.objects.all()
    serializer_class = StageSerializer
    filterset_class = StageFilter
    search_fields = ["name", "description"]
    ordering_fields = ["position", "name"]

    def get_org_queryset(self, org: Organization) -> QuerySet[Stage]:
        return selectors.stage_list(org=org).prefetch_related("touchpoints")

    def perform_create(self, serializer: StageSerializer) -> None:
        serializer.instance = services.stage_create(actor=self.actor, **serializer.validated_data)

    def perform_update(self, serializer: StageSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("journey", None)
        position = data.pop("position", None)
        stage = serializer.instance
        if data:
            stage = services.stage_update(stage=stage, data=data, actor=self.actor)
        if position is not None and position != stage.position:
            stage = services.stage_move(stage=stage, position=position, actor=self.actor)
        serializer.instance = self.get_org_queryset(self.request.org).get(pk=stage.pk)

    def perform_destroy(self, instance: Stage) -> None:
        services.stage_delete(stage=instance, actor=self.actor)


@extend_schema_view(
    list=extend_schema(
        summary="List touchpoints (filter by journey, stage, phase, channel, component, team)"
    ),
    create=extend_schema(summary="Add a touchpoint to a stage (at `position`, default the end)"),
    update=extend_schema(summary="Change a touchpoint; a new `stage` or `position` moves it"),
    partial_update=extend_schema(
        summary="Change some of a touchpoint's fields; `stage` or `position` moves it"
    ),
)
class TouchpointViewSet(OrgViewSet):
    """Where customers meet the company: a channel, a component (service, technology,
    design) and an owner team, in a stage of a journey."""

    queryset = Touchpoint.objects.all()
    serializer_class = TouchpointSerializer
    filterset_class = TouchpointFilter
    search_fields = ["name", "description"]
    ordering_fields = ["position", "name", "created_at"]

    def get_org_queryset(self, org: Organization) -> QuerySet[Touchpoint]:
        return selectors.touchpoint_list(org=org)

    def perform_create(self, serializer: TouchpointSerializer) -> None:
        serializer.instance = services.touchpoint_create(
            actor=self.actor, **serializer.validated_data
        )

    def perform_update(self, serializer: TouchpointSerializer) -> None:
        data = dict(serializer.validated_data)
        stage = data.pop("stage", None)
        position = data.pop("position", None)
        touchpoint = serializer.instance
        if data:
            touchpoint = services.touchpoint_update(
                touchpoint=touchpoint, data=data, actor=self.actor
            )
        moves_stage = stage is not None and stage.pk != touchpoint.stage_id
        if moves_stage or (position is not None and position != touchpoint.position):
            touchpoint = services.touchpoint_move(
                touchpoint=touchpoint,
                stage=stage or touchpoint.stage,
                position=position,
                actor=self.actor,
            )
        serializer.instance = self.get_org_queryset(self.request.org).get(pk=touchpoint.pk)

    @extend_schema(
        summary="Delete a touchpoint, or archive it when it has feedback",
        responses={
            204: OpenApiResponse(description="Deleted."),
            200: OpenApiResponse(
                TouchpointSerializer,
                description="Responses, invitations, surveys or campaigns point at it: "
                "archived instead (off the map, kept with its data).",
            ),
        },
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        touchpoint = self.get_object()
        outcome = services.touchpoint_delete(touchpoint=touchpoint, actor=self.actor)
        if outcome == services.Outcome.DELETED:
            return Response(status=status.HTTP_204_NO_CONTENT)
        touchpoint = self.get_org_queryset(request.org).get(pk=touchpoint.pk)
        return Response(self.get_serializer(touchpoint).data)

    @extend_schema(summary="Put an archived touchpoint back, at the end of its stage", request=None)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        touchpoint = services.touchpoint_restore(touchpoint=self.get_object(), actor=self.actor)
        return Response(self.get_serializer(touchpoint).data)


router.register("journeys", JourneyViewSet, basename="journey")
router.register("stages", StageViewSet, basename="stage")
router.register("touchpoints", TouchpointViewSet, basename="touchpoint")
