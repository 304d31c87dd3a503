"""The REST API's plumbing, read by REST_FRAMEWORK settings: API-key authentication, the
organization permission, pagination, one error body, and the schema's error documentation.

Kept apart from ``cxplatform.api`` because DRF imports these while it defines its views.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import authentication, exceptions, pagination, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from cxplatform import services, tenancy
from cxplatform.models import ApiKey, Role, role_at_least


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>``. ``request.auth`` becomes the ApiKey row."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not raw:
            raise exceptions.AuthenticationFailed("No API key after 'Bearer'.")
        key = services.api_key_authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class OrganizationPermission(permissions.BasePermission):
    """Sets ``request.org`` and ``request.role``; reads need any role, writes need the
    view's ``write_role`` (manager by default)."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            request.org, request.role = request.auth.organization, request.auth.role
        elif request.user and request.user.is_authenticated:
            membership = tenancy.active_membership(request._request)
            if membership is None:
                raise exceptions.PermissionDenied("You are not a member of any organization.")
            request.org, request.role = membership.organization, membership.role
            request.membership = membership
        else:
            raise exceptions.NotAuthenticated()
        if request.method in permissions.SAFE_METHODS:
            return True
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if lookup and lookup in getattr(view, "kwargs", {}):
            # A row is addressed: decide after it is found, so another organization's row
            # is a 404 and never a 403 that confirms it exists.
            return True
        return self.may_write(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or self.may_write(request, view)

    @staticmethod
    def may_write(request: Request, view: Any) -> bool:
        return role_at_least(request.role, getattr(view, "write_role", Role.MANAGER))


# The largest id a row can have (BigAutoField). An id filter beyond it is a 400: SQLite
# cannot even compare such a number (OverflowError, a 500).
MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A row's id: a whole number from 1 to the largest id the database holds. Anything
    else is a 400 naming the filter (a huge number would overflow the query: a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class OrgRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key by id that only finds rows of the request's organization (the
    serializer context's ``org``): another organization's id gets the same answer as an id
    that does not exist, so nothing confirms that it does. The one such field of the API.

    ``OrgRelatedField(Survey)``; ``many=True`` for a list of ids.
    """

    default_error_messages = {
        "does_not_exist": "No {model} with id {pk_value} in your organization.",
        "incorrect_type": "Expected an id (a number), got {data_type}.",
    }

    def __init__(self, model: type, **kwargs: Any) -> None:
        self.model = model
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        org = self.context.get("org")
        manager = self.model._default_manager
        return manager.filter(organization=org) if org is not None else manager.none()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= pk <= MAX_ID:  # beyond any id; SQLite could not even compare it
            self.fail("does_not_exist", model=self.model._meta.verbose_name, pk_value=data)
        try:
            return self.get_queryset().get(pk=pk)
        except self.model.DoesNotExist:
            self.fail("does_not_exist", model=self.model._meta.verbose_name, pk_value=data)


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error has the same body: ``{"code", "detail", "fields"?}``."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            response.data
            if isinstance(response.data, dict)
            else {"non_field_errors": response.data}
        )
        response.data = {"code": "invalid", "detail": "Some fields are invalid.", "fields": fields}
    else:
        detail = (
            response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        )
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"code": code, "detail": str(detail)}
    return response


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: invalid, not_found, permission_denied…"
    )
    detail = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only for 400: the messages of each invalid field.",
    )


# Query parameters that never refuse a value: pagination falls back to its default page
# size, ordering ignores unknown fields, search takes any text. (A `page` past the last
# one is a 404, documented separately.)
UNCHECKED_QUERY_PARAMETERS = frozenset({"page", "page_size", "ordering", "search"})


def document_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict:
    """drf-spectacular hook: document 400/401/403/404 bodies, which it omits by default.

    400 on writes and on lists with filters; 404 on a row's path and on paginated lists.
    A DELETE that a business rule can refuse documents its 400 on its view (``REFUSED``).
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "detail": {"type": "string"},
            "fields": {
                "type": "object",
                "description": "Only for 400: each invalid field's messages. A nested field "
                "(questions, answers, choices…) has an object instead: its items' errors by "
                'position, e.g. {"questions": {"0": {"type": ["This field is required."]}}}.',
                "additionalProperties": {
                    "anyOf": [
                        {
                            "type": "array",
                            "items": {"anyOf": [{"type": "string"}, {"type": "object"}]},
                        },
                        {"type": "object"},
                    ]
                },
            },
        },
        "required": ["code", "detail"],
    }
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"description": "Missing or invalid API key.", **ref})
            responses.setdefault("403", {"description": "The role does not allow this.", **ref})
            query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            if method in {"post", "put", "patch"}:
                responses.setdefault("400", {"description": "Invalid input, by field.", **ref})
            elif query - UNCHECKED_QUERY_PARAMETERS:
                # django-filter refuses a filter value it cannot read (an unknown status,
                # a date that is not one) rather than ignoring the filter.
                responses.setdefault(
                    "400", {"description": "A filter's value is invalid, by parameter.", **ref}
                )
            if "{" in path:
                responses.setdefault(
                    "404", {"description": "No such row in your organization.", **ref}
                )
            elif "page" in query:
                responses.setdefault(
                    "404", {"description": "No such page: `page` is past the last one.", **ref}
                )
    return result
