"""A project's voices, avatars and router configurations in the ops console: listed, never edited.

Each row mirrors an object Runway keeps; changing one here would leave the two apart, so the
pages only browse and filter (the project's pages change them through `library.actions`).
"""

from __future__ import annotations

from django.contrib import admin

from library.models import Avatar, RouterConfig, Voice

from .kit import ReadOnlyModelAdmin, pretty_json

COMMON = ["project", "created_by", "runway_id", "name", "created_at", "updated_at"]


class LibraryAdmin(ReadOnlyModelAdmin):
    list_select_related = ["project", "created_by"]
    search_fields = ["name", "runway_id", "project__name", "project__slug"]
    date_hierarchy = "created_at"


@admin.register(Voice)
class VoiceAdmin(LibraryAdmin):
    list_display = ["name", "project", "status", "design_model", "runway_id", "created_at"]
    list_filter = ["status", "design_model", "created_at"]
    fields = [*COMMON, "status", "failure", "design_model", "prompt", "description", "preview", "preview_seconds"]
    readonly_fields = fields


@admin.register(Avatar)
class AvatarAdmin(LibraryAdmin):
    list_display = ["name", "project", "status", "voice_used", "runway_id", "created_at"]
    list_filter = ["status", "image_processing", "created_at"]
    list_select_related = ["project", "created_by", "voice"]
    fields = [*COMMON, "status", "failure", "personality", "start_script", "image", "image_processing",
              "preset_voice", "voice"]
    readonly_fields = fields

    @admin.display(description="Voice")
    def voice_used(self, obj):
        return obj.voice.name if obj.voice else (obj.preset_voice or "—")


@admin.register(RouterConfig)
class RouterConfigAdmin(LibraryAdmin):
    list_display = ["name", "slug", "project", "runway_id", "created_at"]
    search_fields = [*LibraryAdmin.search_fields, "slug"]
    fields = [*COMMON, "slug", "description", "settings_json"]
    readonly_fields = fields

    @admin.display(description="Settings")
    def settings_json(self, obj):
        return pretty_json(obj.settings)
