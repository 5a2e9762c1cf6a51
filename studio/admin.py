"""Staff views of the studio's data, for support: read mostly, never the place to edit media."""

from __future__ import annotations

from django.contrib import admin

from studio.models import Clip, InputClip, Project, Reference, WorkerHeartbeat


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "created_by", "updated_at", "archived_at"]
    list_filter = ["archived_at"]
    search_fields = ["name", "code", "team__name"]
    readonly_fields = ["code", "created_at"]


@admin.register(Clip)
class ClipAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "project",
        "state",
        "duration",
        "width",
        "height",
        "created_at",
    ]
    list_filter = ["state", "container", "video_codec"]
    search_fields = ["original_name", "code", "sha256"]
    readonly_fields = [f.name for f in Clip._meta.fields]


@admin.register(Reference)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ["original_name", "project", "state", "format", "width", "height"]
    list_filter = ["state", "format"]
    search_fields = ["original_name", "code"]
    readonly_fields = [f.name for f in Reference._meta.fields]


@admin.register(InputClip)
class InputClipAdmin(admin.ModelAdmin):
    list_display = ["clip", "start_ms", "length_ms", "width", "height", "size"]
    readonly_fields = [f.name for f in InputClip._meta.fields]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["worker", "started_at", "seen_at"]
