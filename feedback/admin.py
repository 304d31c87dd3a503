from __future__ import annotations

from django.contrib import admin

from feedback import models


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "organization", "unsubscribed_at", "last_surveyed_at"]
    list_filter = ["organization"]
    search_fields = ["email", "name", "external_id"]


@admin.register(models.ContactImport)
class ContactImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "organization", "status", "processed_rows", "error_count"]
    exclude = ["content"]


class QuestionInline(admin.TabularInline):
    model = models.Question
    extra = 0
    fields = ["position", "type", "text", "is_primary", "required", "archived_at"]


@admin.register(models.Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "status", "organization"]
    list_filter = ["kind", "status", "organization"]
    inlines = [QuestionInline]


@admin.register(models.Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "organization"]


@admin.register(models.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "survey", "status", "send_at", "organization"]
    list_filter = ["status", "organization"]
    # The list's links carry the organization (CampaignContact): the API and the form
    # set them; a plain admin widget would not.
    exclude = ["listed_contacts"]


@admin.register(models.Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["id", "contact", "survey", "campaign", "status", "attempts", "sent_at"]
    list_filter = ["status", "organization"]
    raw_id_fields = ["contact", "campaign", "touchpoint", "employee"]
    search_fields = ["contact__email", "external_ref"]


class AnswerInline(admin.TabularInline):
    model = models.Answer
    extra = 0
    readonly_fields = ["question", "question_text", "value_number", "value_text", "value_choices"]


@admin.register(models.Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "contact", "primary_score", "category", "submitted_at"]
    list_filter = ["category", "channel", "completed", "flagged_automated", "organization"]
    raw_id_fields = ["invitation", "contact", "campaign", "touchpoint", "employee"]
    inlines = [AnswerInline]


@admin.register(models.DeliveryEvent)
class DeliveryEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "invitation", "contact"]
    list_filter = ["kind"]
