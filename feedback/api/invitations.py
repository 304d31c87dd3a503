"""REST API: invitations. ``POST invitations/`` triggers one survey for one contact
(created if new); the same ``external_ref`` again for the same contact returns the first
invitation (200 instead of 201), for another contact it is a 409 naming ``external_ref``. Each invitation carries its full respondent link (``survey_url``), so an
integration can also deliver it through its own channel."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from cxplatform.api import OrgViewSet, router
from cxplatform.rest import ErrorSerializer, OrgRelatedField
from feedback.models import Invitation, Survey, SurveyStatus
from feedback.selectors import contacts as selectors
from feedback.services import invitations
from journeys.models import Touchpoint
from scorecards.models import Employee


class InvitationContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class InvitationSerializer(serializers.ModelSerializer):
    contact = InvitationContactSerializer(read_only=True)
    survey_url = serializers.SerializerMethodField(
        help_text="The respondent's link (SITE_URL + /s/<token>/)."
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "status",
            "channel",
            "survey",
            "contact",
            "campaign",
            "touchpoint",
            "employee",
            "external_ref",
            "suppression_reason",
            "attempts",
            "created_at",
            "sent_at",
            "opened_at",
            "responded_at",
            "expires_at",
            "survey_url",
        ]
        read_only_fields = fields

    def get_survey_url(self, invitation: Invitation) -> str:
        return invitations.survey_url(invitation)


class InvitationCreateSerializer(serializers.Serializer):
    survey = OrgRelatedField(Survey, help_text="An active survey of your organization.")
    contact_email = serializers.EmailField(max_length=254, help_text="Created as a contact if new.")
    contact_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Used for a new contact."
    )
    locale = serializers.CharField(
        max_length=10, required=False, allow_blank=True, help_text="For a new contact, e.g. de."
    )
    touchpoint = OrgRelatedField(
        Touchpoint, required=False, allow_null=True, help_text="Default: the survey's."
    )
    employee = OrgRelatedField(
        Employee, required=False, allow_null=True, help_text="Whose work is rated."
    )
    external_ref = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=(
            "Your reference (ticket, order…), unique per invitation. Repeating it for the "
            "same contact returns the first invitation; for another contact it is a 409."
        ),
    )
    send_email = serializers.BooleanField(
        default=True,
        help_text="False: no email; deliver survey_url yourself (chat, SMS, receipt).",
    )
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=invitations.MAX_EXPIRY_DAYS,
        required=False,
        help_text="Default: the platform's invitation lifetime (30 days).",
    )

    def validate_survey(self, survey: Survey) -> Survey:
        if survey.status != SurveyStatus.ACTIVE:
            raise serializers.ValidationError(
                f"This survey is {survey.get_status_display().lower()}, not active."
            )
        return survey


class InvitationViewSet(OrgViewSet):
    """Survey invitations: from campaigns and from integrations (POST)."""

    queryset = Invitation.objects.all()
    serializer_class = InvitationSerializer
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = ["status", "channel", "survey", "contact", "campaign", "external_ref"]
    ordering_fields = ["created_at", "sent_at"]
    search_fields: list[str] = []

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.invitation_list(org=org)

    @extend_schema(
        request=InvitationCreateSerializer,
        responses={
            201: OpenApiResponse(InvitationSerializer, description="A new invitation."),
            200: OpenApiResponse(
                InvitationSerializer,
                description=(
                    "external_ref was seen before for this contact: the first invitation, "
                    "unchanged."
                ),
            ),
            409: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "external_ref already names an invitation for another contact "
                    '(code "conflict", the message under fields.external_ref).'
                ),
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = InvitationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        try:
            result = invitations.invitation_trigger(
                org=request.org, actor=self.actor, **serializer.validated_data
            )
        except invitations.ExternalRefConflictError as conflict:
            # Not a plain 400: the request is well-formed, it collides with another row.
            return Response(
                {
                    "code": "conflict",
                    "detail": "external_ref is already used for another contact.",
                    "fields": conflict.message_dict,
                },
                status=status.HTTP_409_CONFLICT,
            )
        body = InvitationSerializer(result.invitation, context=self.get_serializer_context())
        return Response(
            body.data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )


router.register("invitations", InvitationViewSet, basename="invitation")
