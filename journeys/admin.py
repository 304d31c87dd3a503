from __future__ import annotations

from django.contrib import admin

from journeys.models import Journey, Stage, Touchpoint


class StageInline(admin.TabularInline):
    model = Stage
    fields = ["position", "name", "phase"]
    readonly_fields = ["position"]
    extra = 0
    ordering = ["position"]


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "persona", "active", "archived_at"]
    list_filter = ["organization", "active"]
    search_fields = ["name", "persona"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "journey", "phase", "position"]
    list_filter = ["phase", "organization"]
    list_select_related = ["journey"]
    readonly_fields = ["position"]


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "stage",
        "channel",
        "component",
        "owner_team",
        "moment_of_truth",
        "position",
        "archived_at",
    ]
    list_filter = ["channel", "component", "moment_of_truth", "organization"]
    list_select_related = ["stage__journey", "owner_team"]
    search_fields = ["name"]
    # Positions are kept dense by journeys.services; move touchpoints on the map or the API.
    readonly_fields = ["position"]
