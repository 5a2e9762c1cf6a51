"""Cross-model operations of the studio. Views and tasks call these; they never import views."""

from __future__ import annotations

from studio.projects.services import project_archive, project_create, project_update
from studio.services.clips import (
    clip_delete,
    clip_process,
    clip_receive,
    input_clip_prepare,
)
from studio.services.references import reference_delete, reference_process, reference_receive

__all__ = [
    "clip_delete",
    "clip_process",
    "clip_receive",
    "input_clip_prepare",
    "project_archive",
    "project_create",
    "project_update",
    "reference_delete",
    "reference_process",
    "reference_receive",
]
