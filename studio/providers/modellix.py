"""The Modellix client: the only module that talks HTTP to Modellix and to its result hosts.

Calls are classified, never guessed at by callers (see base.Failure). The paid submit POST is
made once; when it may have reached Modellix and we do not know the outcome, the error says
UNCERTAIN and the take is parked for a person to decide.

On the paid POST only an answer that proves refusal may be retried or failed: the listed 4xx, 429,
and a connection that was refused or never made. Anything that may come after Modellix acted is
uncertain: every 5xx (a 502/503/504 can be a gateway that gave up waiting for an upstream that
already created the task), 408, a read timeout, a broken connection, an unreadable 200.

Every call has an overall deadline (transport.Deadline), and result downloads connect only to
addresses checked after one DNS lookup (transport.PinnedAdapter).

Every request to the API is paid for from the request budget that all processes share
(studio.providers.request_budget) before it is sent; without a token it is not sent (OverBudget says
when to try).
`prepare` pays for its uploads and for the POST that follows at once, so a take is either fully
paid for before the first upload or sent nowhere, and the paid POST never waits for the budget.
"""

from __future__ import annotations

import base64
import email.utils
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from django.conf import settings

from studio.providers import request_budget
from studio.providers.base import (
    EditRequest,
    Failure,
    Media,
    ProviderError,
    Submitted,
    TaskStatus,
)
from studio.providers.transport import Deadline, PinnedAdapter, TimedAdapter
from studio.storage import signing

USER_AGENT = "Cutroom/0.1 (+self-hosted video studio)"
SUCCESS = {"completed", "succeeded", "success"}
FAILED = {"canceled", "cancelled", "error", "failed"}
DEFINITE_REJECTIONS = {400, 401, 402, 403, 404, 405, 413, 415, 422}
MAX_BASE64_BYTES = 20 * 1024 * 1024


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def retry_after(response: requests.Response, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset."""
    now = time.time() if now is None else now
    value = response.headers.get("Retry-After", "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.timestamp() - now)
    reset = response.headers.get("X-RateLimit-Reset", "").strip()
    try:
        number = float(reset)
    except ValueError:
        return None
    if number > 1e12:  # Unix milliseconds
        return max(0.0, number / 1000 - now)
    if number > 1e9:  # Unix seconds
        return max(0.0, number - now)
    return max(0.0, number)  # seconds from now


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return _clip(response.text.strip(), 200) or response.reason or ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or "")
    return ""


def classify(response: requests.Response, *, paid: bool) -> ProviderError:
    """Turn an error response into a ProviderError that says what may be done next."""
    status = response.status_code
    said = _message(response)
    detail = f"HTTP {status}: {_clip(response.text)}"
    if status == 429:
        wait = retry_after(response)
        return ProviderError(
            "The provider is busy (rate or concurrency limit); Cutroom waits and tries again.",
            Failure.RATE_LIMITED,
            wait=wait,
            detail=detail,
        )
    if status in (401, 403):
        return ProviderError(
            f"The provider refused Cutroom's API key ({said or status}). An administrator must "
            "check MODELLIX_API_KEY.",
            Failure.REJECTED,
            detail=detail,
            config=True,
        )
    if status == 402:
        return ProviderError(
            f"The provider account has no credit left ({said or 'payment required'}). Top it up, "
            "then run the take again.",
            Failure.REJECTED,
            detail=detail,
            config=True,
        )
    if status in DEFINITE_REJECTIONS:
        return ProviderError(
            f"The provider rejected the request: {said or status}.", Failure.REJECTED, detail=detail
        )
    if paid:
        # Not a refusal, so the provider may have created (and will bill) the task.
        what = "an error" if status >= 500 else "an unexpected answer"
        return ProviderError(
            f"The provider answered with {what} (HTTP {status}) after the edit was sent, so it "
            "may or may not have started it.",
            Failure.UNCERTAIN,
            detail=detail,
        )
    return ProviderError(
        f"The provider is having trouble (HTTP {status}).",
        Failure.RETRY,
        wait=retry_after(response),
        detail=detail,
    )


def _connection_failure(
    error: requests.RequestException,
    *,
    paid: bool,
    timeout: float | None = None,
    deadline: Deadline | None = None,
) -> ProviderError:
    """A request that never connected did no work; one that broke after sending might have."""
    refused = isinstance(error, requests.ConnectionError) and any(
        marker in repr(error) for marker in ("NewConnectionError", "NameResolutionError")
    )
    never_sent = isinstance(error, requests.ConnectTimeout) or refused
    detail = _clip(repr(error))
    if deadline is not None and deadline.expired and not never_sent:
        return _too_slow(deadline, paid=paid, detail=detail)
    if paid and not never_sent:
        if isinstance(error, requests.ReadTimeout):
            waited = f" within {timeout:g} s" if timeout else ""
            return ProviderError(
                f"The provider did not answer{waited} after the edit was sent, so it may or may "
                "not have started it.",
                Failure.UNCERTAIN,
                detail=detail,
            )
        return ProviderError(
            "The connection to the provider broke after the edit was sent, so it may or may not "
            "have started it.",
            Failure.UNCERTAIN,
            detail=detail,
        )
    return ProviderError(
        "The provider cannot be reached.",
        Failure.RETRY,
        detail=detail,
    )


def _too_slow(deadline: Deadline, *, paid: bool, detail: str = "") -> ProviderError:
    """The whole exchange took longer than its deadline, and Cutroom hung up."""
    took = f"within {deadline.seconds:g} s"
    if paid:
        return ProviderError(
            f"The provider did not finish answering {took} after the edit was sent, so it may "
            "or may not have started it.",
            Failure.UNCERTAIN,
            detail=detail or f"deadline of {deadline.seconds:g} s passed",
        )
    return ProviderError(
        f"The provider did not finish answering {took}.",
        Failure.RETRY,
        detail=detail or f"deadline of {deadline.seconds:g} s passed",
    )


def _envelope(response: requests.Response, *, paid: bool) -> dict[str, Any]:
    """The `data` of {code, message, data}; errors in a 200 envelope are classified too."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        failure = Failure.UNCERTAIN if paid else Failure.RETRY
        raise ProviderError(
            "The provider sent a reply Cutroom cannot read.",
            failure,
            detail=f"HTTP {response.status_code}: {_clip(response.text)}",
        )
    code = body.get("code", 0)
    if code not in (0, "0", 200, None):
        fake = requests.Response()
        fake.status_code = int(code) if str(code).isdigit() else 400
        fake._content = response.content
        fake.headers = response.headers
        raise classify(fake, paid=paid)
    return body["data"]


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def parse_status(data: dict[str, Any], task_id: str) -> TaskStatus:
    """Read every spelling the provider notes list (and be lenient about the rest)."""
    if str(data.get("task_id") or task_id) != task_id:
        raise ProviderError(
            "The provider answered about a different task.",
            Failure.RETRY,
            detail=f"asked {task_id}, got {data.get('task_id')}",
        )
    raw = str(data.get("status") or "").strip().lower()
    if not raw:
        raise ProviderError(
            "The provider's reply has no status.", Failure.RETRY, detail=_clip(repr(data))
        )
    result: dict[str, Any] = data["result"] if isinstance(data.get("result"), dict) else {}
    resources = result.get("resources") or data.get("resources") or []
    urls: list[str] = []
    for item in resources if isinstance(resources, list) else []:
        url = item if isinstance(item, str) else (item or {}).get("url")
        kind = "video" if isinstance(item, str) else (item or {}).get("type", "video")
        if url and kind in ("video", None, ""):
            urls.append(str(url))
    expires = data.get("result_expires_at")
    billing: dict[str, Any] = data["billing"] if isinstance(data.get("billing"), dict) else {}
    error = data.get("error")
    message = (
        (error.get("message") if isinstance(error, dict) else error)
        or data.get("message")
        or data.get("fail_reason")
        or data.get("error_message")
        or ""
    )
    state = "succeeded" if raw in SUCCESS else "failed" if raw in FAILED else "running"
    if raw == "pending":
        state = "pending"
    return TaskStatus(
        state=state,
        result_urls=tuple(urls),
        message=str(message),
        charged_usd=_decimal(billing.get("amount")),
        duration_ms=int(data["duration"]) if str(data.get("duration", "")).isdigit() else None,
        result_expires_at=(
            datetime.fromtimestamp(int(str(expires)) / 1000, tz=UTC)
            if str(expires or "").isdigit()
            else None
        ),
        raw_status=raw,
    )


def check_download_url(url: str) -> None:
    """Refuse result links that are not web addresses on an allowed host.

    The addresses are checked where the connection is made (transport.allowed_addresses): the
    host is resolved once there and the download goes to an address that was checked.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ProviderError("The result link is not a web address.", Failure.REJECTED, detail=url)
    if settings.RESULT_HOSTS and host not in settings.RESULT_HOSTS:
        raise ProviderError(
            f"The result is on {host}, which is not an allowed result host.",
            Failure.REJECTED,
            detail=url,
        )


def signed_media_url(media: Media) -> str:
    return signing.signed_media_url(kind=media.kind, code=media.code, variant=media.variant)


class Modellix:
    name = "modellix"
    label = "Modellix wan2.7-videoedit"
    bills = True
    is_ai = True
    model = "wan2.7-videoedit"  # what the disclosure names (studio.provenance.disclosure)
    can_cancel = False  # the API has no cancel: a person can only stop waiting
    # DashScope's wan2.7-videoedit takes `watermark` ("AI生成" bottom-right); Modellix's schema
    # for the model (provider notes, the seed file) does not list it, so it is never sent here.
    watermark = False
    watermark_note = (
        "Modellix does not offer the model's own AI mark, so it cannot be asked for here. "
        "Your team's owners can have Cutroom burn an “AI-generated” label into downloads "
        "instead (team settings)."
    )
    budget = "modellix"  # the request budget it spends from (studio.providers.request_budget)

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        submit_path: str,
        media_mode: str,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.submit_path = submit_path
        self.media_mode = media_mode
        self.prepaid = 0  # requests already paid for from the budget (see _spend)
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT}
        )
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, TimedAdapter())
        # Result files live on other hosts: never send them our API key.
        self.downloads = requests.Session()
        self.downloads.headers["User-Agent"] = USER_AGENT
        self.downloads.trust_env = False
        for scheme in ("http://", "https://"):
            self.downloads.mount(scheme, PinnedAdapter())

    def _spend(self, count: int = 1, *, patience: float = 0.0) -> None:
        """Pay for `count` requests before sending them: from what was paid ahead, else from the
        shared budget, waiting up to `patience` seconds; OverBudget when it is spent."""
        if self.prepaid >= count:
            self.prepaid -= count
            return
        request_budget.spend(self.budget, count - self.prepaid, patience=patience)
        self.prepaid = 0

    # -- submit ---------------------------------------------------------------------------
    def media_url(self, media: Media) -> str:
        if self.media_mode == "url":
            if media.url:  # object storage: the bucket's own presigned address
                return media.url
            if not settings.PUBLIC_URL:
                raise ProviderError(
                    "MODELLIX_MEDIA_MODE=url needs STUDIO_PUBLIC_URL (this server's public "
                    "address) or object storage (STUDIO_STORAGE=s3).",
                    Failure.REJECTED,
                    config=True,
                )
            return signed_media_url(media)
        if self.media_mode == "base64":
            size = media.path.stat().st_size
            if size > MAX_BASE64_BYTES:
                raise ProviderError(
                    f"{media.name} is too large to send inline ({size // 1024 // 1024} MB); "
                    "use MODELLIX_MEDIA_MODE=upload.",
                    Failure.REJECTED,
                    config=True,
                )
            encoded = base64.b64encode(media.path.read_bytes()).decode()
            return f"data:{media.content_type};base64,{encoded}"
        return self.upload(media)

    def upload(self, media: Media) -> str:
        """Put a file on Modellix's media endpoint (not billed, so safe to retry)."""
        self._spend()
        total = settings.MODELLIX_UPLOAD_TIMEOUT
        deadline = Deadline(total)
        try:
            with deadline, media.path.open("rb") as handle:
                response = self.session.post(
                    f"{self.base_url}/api/v1/media/files",
                    files={"file": (media.name, handle, media.content_type)},
                    timeout=(settings.MODELLIX_CONNECT_TIMEOUT, total),
                )
        except requests.RequestException as error:
            raise _connection_failure(error, paid=False, deadline=deadline) from None
        if deadline.expired:
            raise _too_slow(deadline, paid=False)
        if response.status_code != 200:
            raise classify(response, paid=False)
        data = _envelope(response, paid=False)
        if not data.get("url"):
            raise ProviderError(
                "The provider did not say where it stored the file.",
                Failure.RETRY,
                detail=_clip(response.text),
            )
        return str(data["url"])

    def body(self, request: EditRequest) -> dict[str, Any]:
        """The JSON for the submit POST: every parameter sent explicitly, by the names
        wan2.7-videoedit gives them (EditParameters is declared in those names); an empty
        negative prompt or ratio is left out, so the model's default applies."""
        body: dict[str, Any] = {
            "video_url": self.media_url(request.video),
            **request.parameters.sent(),
        }
        if not self.watermark:
            body.pop("watermark", None)  # take_create refuses such a take; never sent anyway
        if request.references:
            body["reference_images"] = [self.media_url(ref) for ref in request.references]
        return body

    def prepare(self, request: EditRequest) -> dict[str, Any]:
        # Its uploads and the POST, paid at once: all of them, or none is sent.
        uploads = 1 + len(request.references) if self.media_mode == "upload" else 0
        self._spend(uploads + 1)
        self.prepaid = uploads + 1
        return self.body(request)

    def send(self, body: dict[str, Any]) -> Submitted:
        """The paid POST. Made once; see the module docstring."""
        self._spend(patience=settings.MODELLIX_CONNECT_TIMEOUT)
        connect, read_timeout = settings.MODELLIX_CONNECT_TIMEOUT, settings.MODELLIX_READ_TIMEOUT
        # The whole exchange, including an answer that trickles in, ends within both waits.
        deadline = Deadline(connect + read_timeout)
        try:
            with deadline:
                response = self.session.post(
                    self.base_url + self.submit_path, json=body, timeout=(connect, read_timeout)
                )
        except requests.RequestException as error:
            raise _connection_failure(
                error, paid=True, timeout=read_timeout, deadline=deadline
            ) from None
        if deadline.expired:
            raise _too_slow(deadline, paid=True)
        if response.status_code != 200:
            raise classify(response, paid=True)
        data = _envelope(response, paid=True)
        task_id = str(data.get("task_id") or "")
        if not task_id:
            raise ProviderError(
                "The provider accepted the edit but did not say its task id.",
                Failure.UNCERTAIN,
                detail=_clip(response.text),
            )
        return Submitted(task_id=task_id)

    # -- status ---------------------------------------------------------------------------
    def status(self, task_id: str) -> TaskStatus:
        total = settings.MODELLIX_STATUS_TIMEOUT
        self._spend(patience=total)  # paid ahead by the scheduler (request_budget.prepay_status)
        deadline = Deadline(total)
        try:
            with deadline:
                response = self.session.get(
                    f"{self.base_url}/api/v1/tasks/{quote(task_id, safe='')}",
                    timeout=(
                        min(settings.MODELLIX_CONNECT_TIMEOUT, total),
                        min(settings.MODELLIX_READ_TIMEOUT, total),
                    ),
                )
        except requests.RequestException as error:
            raise _connection_failure(error, paid=False, deadline=deadline) from None
        if deadline.expired:
            raise _too_slow(deadline, paid=False)
        if response.status_code == 404:
            raise ProviderError(
                "The provider does not know this task (HTTP 404).",
                Failure.REJECTED,
                detail=_clip(response.text),
            )
        if response.status_code != 200:
            raise classify(response, paid=False)
        return parse_status(_envelope(response, paid=False), task_id)

    def cancel(self, task_id: str) -> None:
        raise ProviderError(
            "The provider offers no way to cancel a running edit.", Failure.REJECTED
        )

    def forget(self, task_id: str) -> None:
        """Nothing to let go of: Modellix expires its results by itself."""

    # -- results --------------------------------------------------------------------------
    def fetch(self, url: str, dest: Path, *, max_bytes: int) -> int:
        """Stream a result to `dest`, re-checking every redirect hop; returns the size.

        The whole download, redirects included, ends within STUDIO_DOWNLOAD_TIMEOUT, and no
        wait for bytes lasts longer than STUDIO_DOWNLOAD_STALL_SECONDS.
        """
        with Deadline(settings.DOWNLOAD_TIMEOUT) as deadline:
            return self._fetch(url, dest, max_bytes=max_bytes, deadline=deadline)

    def _fetch(self, url: str, dest: Path, *, max_bytes: int, deadline: Deadline) -> int:
        timeout = (settings.MODELLIX_CONNECT_TIMEOUT, settings.DOWNLOAD_STALL_SECONDS)
        for _ in range(4):
            check_download_url(url)
            try:
                response = self.downloads.get(
                    url, stream=True, allow_redirects=False, timeout=timeout
                )
            except requests.RequestException as error:
                raise _connection_failure(error, paid=False, deadline=deadline) from None
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code in (403, 404, 410):
                    raise ProviderError(
                        "The result link has expired.",
                        Failure.EXPIRED,
                        detail=f"HTTP {response.status_code} from {urlsplit(url).hostname}",
                    )
                if response.status_code != 200:
                    raise classify(response, paid=False)
                return _stream(response, dest, max_bytes, deadline)
        raise ProviderError("The result link redirects too often.", Failure.REJECTED, detail=url)


def _announced_length(response: requests.Response) -> int | None:
    """The body's length in bytes as sent, when the host said it and did not compress it."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    length = response.headers.get("Content-Length", "").strip()
    return int(length) if length.isascii() and length.isdigit() and encoding == "identity" else None


def _stream(response: requests.Response, dest: Path, max_bytes: int, deadline: Deadline) -> int:
    """Write the body to `dest`; a short or failed transfer leaves no file and can be retried.

    Errors writing `dest` (a full disk, a read-only folder) are OSErrors and propagate, after the
    partial file is removed: the caller decides what a person must do about them.
    """
    size = 0
    expected = _announced_length(response)
    try:
        with dest.open("wb") as out:
            for chunk in response.iter_content(256 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ProviderError(
                        f"The result is larger than {max_bytes // 1024 // 1024} MB.",
                        Failure.REJECTED,
                    )
                out.write(chunk)
        if deadline.expired:  # the deadline shut the connection: the body may just look short
            raise _download_too_slow(deadline, size)
        if expected is not None and size != expected:
            raise ProviderError(
                "The download of the result stopped before the end of the file.",
                Failure.RETRY,
                detail=f"got {size} of {expected} bytes",
            )
    except requests.RequestException as error:
        dest.unlink(missing_ok=True)
        if deadline.expired:
            raise _download_too_slow(deadline, size) from None
        raise _connection_failure(error, paid=False) from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size


def _download_too_slow(deadline: Deadline, size: int) -> ProviderError:
    return ProviderError(
        f"The download of the result took longer than {deadline.seconds:g} s, so Cutroom "
        "stopped it.",
        Failure.RETRY,
        detail=f"deadline of {deadline.seconds:g} s passed after {size} bytes",
    )


def from_settings() -> Modellix:
    if not settings.MODELLIX_API_KEY:
        raise ProviderError(
            "STUDIO_PROVIDER is modellix but MODELLIX_API_KEY is empty.",
            Failure.REJECTED,
            config=True,
        )
    return Modellix(
        api_key=settings.MODELLIX_API_KEY,
        base_url=settings.MODELLIX_BASE_URL,
        submit_path=settings.MODELLIX_SUBMIT_PATH,
        media_mode=settings.MODELLIX_MEDIA_MODE,
    )
