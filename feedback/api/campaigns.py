"""REST API: campaigns, segments, and delivery reports (bounces, complaints).

- ``campaigns/``: list (filters ``status``, ``survey``; search), create (a draft), read
  (with ``progress``), update and delete while a draft (update also while scheduled).
- ``campaigns/<id>/launch/``: start sending now, or schedule it when ``send_at`` is in the
  future. ``pause/``, ``resume/``, ``cancel/``: the other transitions. Each returns the
  campaign; a transition that does not apply is a 400 with the reason.
- ``campaigns/<id>/preview/``: who would receive it if launched now (count, suppressed by
  reason, a sample), and the email's subject.
- ``segments/``: saved audiences (``filter``: ``{"attributes": {"plan": "pro"},
  "locale": "de", "email__endswith": "@example.com", "company__icontains": "acme"}``).
- ``deliveries/``: what happened to emails after they left (bounces, complaints, opens,
  unsubscribes, reminders), newest first. ``POST deliveries/bounces/`` records a bounce
  or a complaint from your mail provider: identify the email by ``invitation`` (id),
  ``message_id`` (the Message-ID header we sent) or the contact's ``email``. A hard
  bounce (``permanent``, the default) marks the address bounced and suppresses every
  queued invitation to it; a complaint unsubscribes the contact; a soft bounce is only
  recorded.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cxplatform.api import REFUSED, OrgViewSet, router
from cxplatform.models import Role
from cxplatform.rest import OrgRelatedField
from feedback.models import (
    AudienceType,
    Campaign,
    Contact,
    DeliveryEvent,
    Invitation,
    Segment,
    Survey,
)
from feedback.selectors import campaigns as selectors
from feedback.services import audience, tracking
from feedback.services import campaigns as services
from feedback.services import email as email_render
from journeys.models import Touchpoint


def _django_to_drf(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"non_field_errors": exc.messages})


class ProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Invitations, suppressed ones included.")
    queued = serializers.IntegerField()
    retrying = serializers.IntegerField(help_text="Queued after a transient failure.")
    sent = serializers.IntegerField(help_text="Emails that left (incl. later bounces).")
    delivered = serializers.IntegerField(help_text="sent − bounced")
    failed = serializers.IntegerField(help_text="Gave up after retries, or refused for good.")
    bounced = serializers.IntegerField()
    opened = serializers.IntegerField()
    started = serializers.IntegerField(help_text="At least one answer saved.")
    completed = serializers.IntegerField(help_text="Finished responses (the response rate's n).")
    partial = serializers.IntegerField(help_text="started − completed")
    answered = serializers.IntegerField(help_text="Deprecated: the same as started.")
    expired = serializers.IntegerField()
    suppressed = serializers.DictField(
        child=serializers.IntegerField(), help_text="By reason: unsubscribed, bounced, …"
    )
    response_rate = serializers.FloatField(
        allow_null=True, help_text="Completed responses / delivered, in %."
    )


def progress_data(campaign: Campaign) -> dict[str, Any]:
    p = selectors.campaign_progress(campaign=campaign)
    return {
        "total": p.total,
        "queued": p.queued,
        "retrying": p.retrying,
        "sent": p.sent,
        "delivered": p.delivered,
        "failed": p.failed,
        "bounced": p.bounced,
        "opened": p.opened,
        "started": p.started,
        "completed": p.completed,
        "partial": p.partial,
        "answered": p.started,
        "expired": p.expired,
        "suppressed": p.suppressed,
        "response_rate": round(p.response_rate, 2) if p.response_rate is not None else None,
    }


class CampaignSerializer(serializers.ModelSerializer):
    survey = OrgRelatedField(Survey)
    touchpoint = OrgRelatedField(Touchpoint, required=False, allow_null=True)
    segment = OrgRelatedField(Segment, required=False, allow_null=True)
    listed_contacts = OrgRelatedField(
        Contact,
        many=True,
        required=False,
        help_text="Contact ids, for audience_type 'list'.",
    )
    audience_filter = serializers.DictField(
        required=False,
        help_text='For audience_type "filter", e.g. {"attributes": {"plan": "pro"}, "locale": "de"}.',
    )
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        # What a campaign's editor may change is one list, the services' (the form's too).
        fields = [
            "id",
            *services.CAMPAIGN_FIELDS,
            "listed_contacts",
            "status",
            "created_at",
            "updated_at",
            "launched_at",
            "completed_at",
            "progress",
        ]
        read_only_fields = [
            "status",
            "created_at",
            "updated_at",
            "launched_at",
            "completed_at",
        ]

    @extend_schema_field(ProgressSerializer(allow_null=True))
    def get_progress(self, campaign: Campaign) -> dict[str, Any] | None:
        """Counts on the detail (not in lists, where it would cost a query per row)."""
        if not self.context.get("with_progress"):
            return None
        return progress_data(campaign)

    def validate_audience_filter(self, value: dict) -> dict:
        try:
            return audience.validate_filter(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("subject", "body"):
            unknown = email_render.unknown_placeholders(attrs.get(name) or "")
            if unknown:
                raise serializers.ValidationError(
                    {name: [f"Unknown placeholder(s): {', '.join(unknown)}."]}
                )
        kind = attrs.get("audience_type", getattr(self.instance, "audience_type", None))
        segment = attrs.get("segment", getattr(self.instance, "segment", None))
        if kind == AudienceType.SEGMENT and segment is None:
            raise serializers.ValidationError({"segment": ["Choose the segment to send to."]})
        return attrs


@extend_schema_view(
    destroy=extend_schema(
        summary="Delete a draft campaign (refused once launched: cancel it instead)",
        responses={204: None, 400: REFUSED},
    )
)
class CampaignViewSet(OrgViewSet):
    """Campaigns: who is asked which survey, when; and their delivery progress."""

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_fields = ["status", "survey", "touchpoint"]
    search_fields = ["name"]
    ordering_fields = ["created_at", "send_at", "name"]

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.campaign_detail(org=org).prefetch_related("listed_contacts")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["with_progress"] = self.action != "list"
        return context

    def perform_create(self, serializer: CampaignSerializer) -> None:
        try:
            serializer.instance = services.campaign_create(
                org=self.request.org, data=dict(serializer.validated_data), actor=self.actor
            )
        except DjangoValidationError as exc:
            raise _django_to_drf(exc) from None

    def perform_update(self, serializer: CampaignSerializer) -> None:
        try:
            serializer.instance = services.campaign_update(
                campaign=serializer.instance,
                data=dict(serializer.validated_data),
                actor=self.actor,
            )
        except DjangoValidationError as exc:
            raise _django_to_drf(exc) from None

    def perform_destroy(self, instance: Campaign) -> None:
        try:
            services.campaign_delete(campaign=instance, actor=self.actor)
        except DjangoValidationError as exc:
            raise _django_to_drf(exc) from None

    def _transition(self, service: Any) -> Response:
        campaign = self.get_object()
        try:
            campaign = service(campaign=campaign, actor=self.actor)
        except DjangoValidationError as exc:
            raise _django_to_drf(exc) from None
        return Response(self.get_serializer(campaign).data)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def launch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Launch now, or schedule when ``send_at`` is in the future. Idempotent."""
        return self._transition(services.campaign_launch)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Stop sending (what a worker already claimed finishes); resume continues."""
        return self._transition(services.campaign_pause)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(services.campaign_resume)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Nothing more is sent; queued invitations become suppressed ('cancelled')."""
        return self._transition(services.campaign_cancel)

    @extend_schema(
        responses=inline_serializer(
            "CampaignPreview",
            {
                "eligible": serializers.IntegerField(),
                "total": serializers.IntegerField(),
                "suppressed": serializers.DictField(child=serializers.IntegerField()),
                "sample": serializers.ListField(
                    child=inline_serializer(
                        "CampaignPreviewContact",
                        {
                            "id": serializers.IntegerField(),
                            "email": serializers.EmailField(),
                            "name": serializers.CharField(),
                        },
                    )
                ),
                "subject": serializers.CharField(),
            },
        )
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Who would receive the campaign if launched now, and the email's subject."""
        campaign = self.get_object()
        result = audience.preview(campaign)
        first = (
            result.sample[0] if result.sample else Contact(email="alex@example.com", name="Alex")
        )
        invitation = Invitation(
            organization=campaign.organization,
            contact=first,
            survey=campaign.survey,
            campaign=campaign,
            touchpoint=campaign.touchpoint,
            token="preview",  # noqa: S106 - a dummy: the preview's links go nowhere
        )
        return Response(
            {
                "eligible": result.eligible,
                "total": result.total,
                "suppressed": dict(result.suppressed),
                "sample": [{"id": c.pk, "email": c.email, "name": c.name} for c in result.sample],
                "subject": email_render.render_invitation(invitation).subject,
            }
        )


router.register("campaigns", CampaignViewSet, basename="campaign")


class SegmentSerializer(serializers.ModelSerializer):
    filter = serializers.DictField(
        required=False,
        help_text='e.g. {"attributes": {"plan": "pro"}, "locale": "de", "email__endswith": "@x.com"}',
    )

    class Meta:
        model = Segment
        fields = ["id", "name", "description", "filter", "created_at"]
        read_only_fields = ["created_at"]

    def validate_filter(self, value: dict) -> dict:
        try:
            return audience.validate_filter(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


@extend_schema_view(
    destroy=extend_schema(
        summary="Delete a segment (refused while a campaign uses it)",
        responses={204: None, 400: REFUSED},
    )
)
class SegmentViewSet(OrgViewSet):
    """Saved audiences for campaigns."""

    queryset = Segment.objects.all()
    serializer_class = SegmentSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.segment_list(org=org)

    def perform_create(self, serializer: SegmentSerializer) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.segment_create(
                org=self.request.org,
                name=data["name"],
                description=data.get("description", ""),
                filter=data.get("filter", {}),
                actor=self.actor,
            )
        except DjangoValidationError as exc:  # the name is taken
            raise _django_to_drf(exc) from None

    def perform_update(self, serializer: SegmentSerializer) -> None:
        try:
            serializer.instance = services.segment_update(
                segment=serializer.instance, data=dict(serializer.validated_data), actor=self.actor
            )
        except DjangoValidationError as exc:
            raise _django_to_drf(exc) from None

    def perform_destroy(self, instance: Segment) -> None:
        try:
            services.segment_delete(segment=instance, actor=self.actor)
        except DjangoValidationError as exc:
            raise _django_to_drf(exc) from None


router.register("segments", SegmentViewSet, basename="segment")


class DeliveryEventSerializer(serializers.ModelSerializer):
    contact_email = serializers.EmailField(source="contact.email", read_only=True, default=None)

    class Meta:
        model = DeliveryEvent
        fields = ["id", "kind", "invitation", "contact", "contact_email", "detail", "created_at"]
        read_only_fields = fields


class DeliveryReportSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[DeliveryEvent.Kind.BOUNCE, DeliveryEvent.Kind.COMPLAINT], default="bounce"
    )
    invitation = serializers.IntegerField(required=False, help_text="The invitation's id.")
    message_id = serializers.CharField(
        required=False, max_length=255, help_text="The Message-ID header of the email."
    )
    email = serializers.EmailField(required=False, help_text="The recipient's address.")
    permanent = serializers.BooleanField(
        default=True, help_text="Hard bounce (suppress the address) or soft (record only)."
    )
    detail = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(attrs.get(k) for k in ("invitation", "message_id", "email")):
            raise serializers.ValidationError(
                {"non_field_errors": ["Give the invitation, the message_id or the email."]}
            )
        org = self.context["org"]
        invitation = None
        if attrs.get("invitation"):
            invitation = (
                Invitation.objects.for_org(org)
                .select_related("contact")
                .filter(pk=attrs["invitation"])
                .first()
            )
            if invitation is None:
                raise serializers.ValidationError({"invitation": ["No such invitation."]})
        elif attrs.get("message_id"):
            wanted = attrs["message_id"].strip()
            if not wanted.startswith("<"):
                wanted = f"<{wanted}>"
            invitation = (
                Invitation.objects.for_org(org)
                .select_related("contact")
                .filter(message_id=wanted)
                .first()
            )
            if invitation is None:
                raise serializers.ValidationError({"message_id": ["No email with this id."]})
        elif not Contact.objects.for_org(org).filter(email__iexact=attrs["email"]).exists():
            raise serializers.ValidationError({"email": ["No contact with this address."]})
        attrs["invitation_row"] = invitation
        return attrs


class DeliveryEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """What happened to emails after they left; and the bounce/complaint report."""

    queryset = DeliveryEvent.objects.all()
    serializer_class = DeliveryEventSerializer
    filterset_fields = ["kind", "invitation", "contact"]
    ordering_fields = ["created_at"]
    write_role = Role.MANAGER

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return DeliveryEvent.objects.none()
        return (
            DeliveryEvent.objects.for_org(self.request.org)
            .select_related("contact")
            .order_by("-created_at", "-id")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["org"] = getattr(self.request, "org", None)
        return context

    @extend_schema(
        request=DeliveryReportSerializer,
        responses={201: DeliveryEventSerializer, 400: OpenApiResponse(description="Invalid")},
    )
    @action(detail=False, methods=["post"], serializer_class=DeliveryReportSerializer)
    def bounces(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a bounce or a complaint reported by the mail provider."""
        serializer = DeliveryReportSerializer(data=request.data, context={"org": request.org})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = tracking.delivery_report(
            org=request.org,
            kind=data["kind"],
            invitation=data["invitation_row"],
            email=data.get("email", ""),
            detail=data.get("detail", ""),
            permanent=data["permanent"],
        )
        return Response(DeliveryEventSerializer(event).data, status=status.HTTP_201_CREATED)


router.register("deliveries", DeliveryEventViewSet, basename="delivery")
