"""The small interface every edit provider implements, and the words its callers use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from studio.takes.parameters import EditParameters


class Failure(StrEnum):
    """How a failed provider call may be handled; decides retries, never guessed by callers."""

    REJECTED = "rejected"  # definite and permanent: fix something, do not retry
    RETRY = "retry"  # transient, and the request certainly did no paid work: retry with backoff
    RATE_LIMITED = "rate_limited"  # retry after `wait`, and pause every call to this provider
    UNCERTAIN = "uncertain"  # a paid request may have reached the provider: never repeat by itself
    EXPIRED = "expired"  # a result link no longer works


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        failure: Failure,
        *,
        wait: float | None = None,
        detail: str = "",
        config: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message  # for the person
        self.failure = failure
        self.wait = wait  # seconds, for RATE_LIMITED (and RETRY when the server said)
        self.detail = detail  # for us: status and body, truncated
        self.config = config  # our key or settings are wrong: nothing will work until fixed


@dataclass(frozen=True)
class Media:
    """A stored file the provider must be able to fetch (the input clip, a reference image)."""

    kind: str  # "input" or "ref", as in the media URLs
    code: str
    variant: str
    path: Path  # a local file (maybe a copy that goes once the provider has sent it)
    content_type: str
    name: str
    # A presigned address of the stored file when it is in object storage, else "".
    url: str = ""
    stored: str = ""  # its name in the default storage (the FieldFile's), for every host


@dataclass(frozen=True)
class EditRequest:
    parameters: EditParameters
    video: Media
    references: tuple[Media, ...] = ()


@dataclass(frozen=True)
class Submitted:
    task_id: str


@dataclass(frozen=True)
class TaskStatus:
    state: str  # "pending", "running", "succeeded" or "failed"
    result_urls: tuple[str, ...] = ()
    message: str = ""  # a failure reason, when the provider gives one
    charged_usd: Decimal | None = None
    duration_ms: int | None = None
    result_expires_at: datetime | None = None
    raw_status: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class Provider(Protocol):
    name: str
    label: str  # shown to people, e.g. "Modellix wan2.7-videoedit"
    bills: bool  # its work costs money (estimates are shown, budgets count it)
    is_ai: bool  # False: every take says it is not AI (the local engine's filters)
    can_cancel: bool  # a running task can be stopped (`cancel`)
    model: str  # the AI model that makes its results ("" when it is not AI)
    # It can add its own visible AI mark to a result when asked (`watermark: true`, DashScope's
    # "AI生成" bottom-right); watermark_note says in words why not, when it cannot.
    watermark: bool
    watermark_note: str

    def prepare(self, request: EditRequest) -> dict[str, object]:
        """Everything before the paid call (e.g. uploading inputs); safe to repeat."""
        ...

    def send(self, payload: dict[str, object]) -> Submitted:
        """The paid call, made once."""
        ...

    def status(self, task_id: str) -> TaskStatus: ...

    def fetch(self, url: str, dest: Path, *, max_bytes: int) -> int: ...

    def cancel(self, task_id: str) -> None:
        """Stop a running task (only when `can_cancel`)."""
        ...

    def forget(self, task_id: str) -> None:
        """The result is stored: let go of what the provider keeps for the task."""
        ...
