"""REST API: contacts, and their CSV imports.

- ``contacts/`` list (filters ``q``, ``email``, ``external_id``, ``locale``, ``status``,
  ``responded``, ``attribute``), create, read, update, delete.
- ``contacts/import/`` POST a CSV file (multipart, field ``file``): 202 with the import,
  processed in the background.
- ``contacts/imports/`` and ``contacts/imports/<id>/``: the imports and their progress
  (status, counts, the bad rows with their row number and reason).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from cxplatform.api import OrgViewSet, router
from cxplatform.models import Role
from feedback.models import Contact, ContactImport, ContactStatus
from feedback.selectors import contacts as selectors
from feedback.services import contacts as services
from feedback.services import imports


class ContactSerializer(serializers.ModelSerializer):
    attributes = serializers.DictField(
        required=False,
        help_text="Free-form key → value (text, number or true/false); keys become "
        "snake_case. An update replaces the whole object.",
    )
    subscribed = serializers.SerializerMethodField(
        help_text="False once the contact unsubscribed or their address bounced."
    )

    class Meta:
        model = Contact
        fields = [
            "id",
            "email",
            "name",
            "company",
            "external_id",
            "locale",
            "time_zone",
            "attributes",
            "subscribed",
            "unsubscribed_at",
            "bounced_at",
            "suppression_reason",
            "last_surveyed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "unsubscribed_at",
            "bounced_at",
            "suppression_reason",
            "last_surveyed_at",
            "created_at",
            "updated_at",
        ]

    def get_subscribed(self, contact: Contact) -> bool:
        return contact.unsubscribed_at is None and contact.bounced_at is None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            return services.clean_profile(attrs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row as a spreadsheet numbers it (header = 1).")
    email = serializers.CharField()
    reason = serializers.CharField()


class ContactImportSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    errors = ImportErrorSerializer(
        many=True,
        read_only=True,
        help_text=f"The first {imports.MAX_STORED_ERRORS} bad rows; error_count counts all.",
    )

    class Meta:
        model = ContactImport
        fields = [
            "id",
            "filename",
            "status",
            "total_rows",
            "processed_rows",
            "percent",
            "created_count",
            "updated_count",
            "error_count",
            "errors",
            "failure",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="by_selector", help_text="Search email, name, company, external id."
    )
    email = django_filters.CharFilter(method="by_email", help_text="Exact address.")
    external_id = django_filters.CharFilter(field_name="external_id")
    locale = django_filters.CharFilter(
        method="by_selector", help_text="Language, e.g. de (matches de and de-CH)."
    )
    status = django_filters.ChoiceFilter(choices=ContactStatus.choices, method="by_selector")
    responded = django_filters.BooleanFilter(
        method="by_selector", help_text="Has (or has not) completed a response."
    )
    attribute = django_filters.CharFilter(
        method="by_selector", help_text="key=value, or key alone for “has the attribute”."
    )

    class Meta:
        model = Contact
        fields: list[str] = []

    def by_email(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(email=value.strip().lower())

    def by_selector(self, queryset: Any, name: str, value: Any) -> Any:
        return selectors.contact_filter(queryset, {name: value})


@extend_schema_view(
    destroy=extend_schema(
        description="Delete the contact and its invitations; its responses stay, anonymous."
    )
)
class ContactViewSet(OrgViewSet):
    """Customers who are asked for feedback. Email addresses are unique per organization
    (case-insensitive) and stored lower-case."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    ordering_fields = ["email", "name", "created_at", "last_surveyed_at"]
    ordering = ["email"]
    search_fields: list[str] = []
    lookup_value_regex = r"\d+"

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.contact_list(org=org)

    def perform_create(self, serializer: ContactSerializer) -> None:
        serializer.instance = services.contact_create(
            org=self.request.org, actor=self.actor, **serializer.validated_data
        )

    def perform_update(self, serializer: ContactSerializer) -> None:
        serializer.instance = services.contact_update(
            contact=serializer.instance, data=serializer.validated_data, actor=self.actor
        )

    def perform_destroy(self, instance: Contact) -> None:
        services.contact_delete(contact=instance, actor=self.actor)

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={202: ContactImportSerializer},
        description=(
            "Upload a CSV file of contacts (multipart field `file`). The first row names the "
            "columns; one must be `email`. Known columns: email, name, company, external_id, "
            "locale, time_zone; others become attributes. Rows are upserted by email. "
            "Answers 202 with the import; follow its progress at `contacts/imports/<id>/`."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="upload",
        parser_classes=[MultiPartParser, FormParser],
    )
    def upload(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": ["Attach the CSV file as `file`."]})
        if upload.size > imports.MAX_FILE_BYTES:
            raise serializers.ValidationError(
                {"file": [f"The file is larger than {imports.MAX_FILE_BYTES // 2**20} MB."]}
            )
        contact_import = imports.import_create(
            org=request.org, actor=self.actor, filename=upload.name, content=upload.read()
        )
        contact_import.refresh_from_db()
        data = ContactImportSerializer(contact_import, context={"request": request}).data
        location = f"/api/v1/contacts/imports/{contact_import.pk}/"
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class ContactImportViewSet(OrgViewSet):
    """CSV imports of contacts and their progress (refresh while `status` is pending or
    running)."""

    queryset = ContactImport.objects.all()
    serializer_class = ContactImportSerializer
    http_method_names = ["get", "head", "options"]
    write_role = Role.MANAGER
    filterset_fields = ["status"]
    ordering_fields = ["created_at"]

    def get_org_queryset(self, org: Any) -> Any:
        return selectors.contact_import_list(org=org)


# The imports route first: "contacts/imports/" must not read as a contact's id.
router.register("contacts/imports", ContactImportViewSet, basename="contact-import")
router.register("contacts", ContactViewSet, basename="contact")
