"""Every domain's models, imported here so that Django registers them in the studio app.

The models live with their domain (studio/<domain>/models.py); this module holds no classes.
"""

from __future__ import annotations

from studio.cuts.models import Cut, CutRender, CutWindow, RenderState
from studio.governance.models import BudgetAlert
from studio.library.models import (
    MAX_PROCESSING_ATTEMPTS,
    PENDING_STATES,
    Clip,
    InputClip,
    MediaState,
    ProcessedMedia,
    Reference,
)
from studio.ops.models import Lease, WorkerHeartbeat
from studio.projects.models import Activity, Project
from studio.providers.local.models import LocalJob
from studio.providers.models import ProviderGate, RequestBudget
from studio.review.models import (
    Comment,
    Email,
    InboxDigest,
    InboxSetting,
    Kind,
    Mention,
    Notification,
    ShareLink,
    Side,
)
from studio.takes.lifecycle import (
    ACTIVE_TAKE_STATES,
    AT_PROVIDER,
    FINAL_TAKE_STATES,
    GUARDED_TAKE_FIELDS,
    LOGGED_ENDINGS,
    TAKE_TRANSITIONS,
    TakeState,
    Transition,
    Trigger,
)
from studio.takes.models import Lineage, ReviewStatus, Take, TakeEvent, TakeReference, TakeStar

__all__ = [
    "ACTIVE_TAKE_STATES",
    "AT_PROVIDER",
    "FINAL_TAKE_STATES",
    "GUARDED_TAKE_FIELDS",
    "LOGGED_ENDINGS",
    "MAX_PROCESSING_ATTEMPTS",
    "PENDING_STATES",
    "TAKE_TRANSITIONS",
    "Activity",
    "BudgetAlert",
    "Clip",
    "Cut",
    "CutRender",
    "CutWindow",
    "Comment",
    "Email",
    "InboxDigest",
    "InboxSetting",
    "Kind",
    "InputClip",
    "Lease",
    "Lineage",
    "LocalJob",
    "MediaState",
    "Mention",
    "Notification",
    "ProcessedMedia",
    "Project",
    "ProviderGate",
    "Reference",
    "RequestBudget",
    "RenderState",
    "ReviewStatus",
    "ShareLink",
    "Side",
    "Take",
    "TakeEvent",
    "TakeReference",
    "TakeStar",
    "TakeState",
    "Transition",
    "Trigger",
    "WorkerHeartbeat",
]
