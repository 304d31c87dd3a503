from __future__ import annotations

from django.contrib import admin

from cxplatform.models import ApiKey, AuditEvent, MailboxMessage, Membership, Organization, Team


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "team"]
    list_filter = ["role", "organization"]
    list_select_related = ["user", "organization", "team"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]
    list_filter = ["organization"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "prefix", "role", "last_used_at", "revoked_at"]
    readonly_fields = ["hashed_key", "prefix"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "action", "object_repr"]
    list_filter = ["organization"]
    search_fields = ["action", "object_repr"]


@admin.register(MailboxMessage)
class MailboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "subject", "recipients"]
