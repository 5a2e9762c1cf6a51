"""A fake Modellix that follows the provider notes (section 1.9), with scriptable faults.

Used by the tests through the real client, and by people: `python manage.py fake_modellix`.
Tasks go pending -> processing -> success (or failed); the result is the input video itself,
served by the fake as a file host. Counters record every call, so tests can assert "exactly one
POST per take".

With `realistic=True` (off by default: tests compare the stored result with the input the fake
was paid for, `Task.video`, and most need no real encode) the result is made from the input as
the model returns it: 30 fps, the model's size for the resolution and ratio, the requested
length, its own sound or the input's per `audio_setting`, and a visible edit
(tests/fake_results.py). `extra_frames` and `colour_shift` make it imperfect, for every task or,
with `next_result`, for the next one. A test may switch `realistic` on a running fake.

The fake fetches `video_url` itself, as Modellix does. When it cannot (a link it cannot reach,
an HTTP error, an unknown upload, bad base64), what the real service does is not documented, so
`unfetchable` plays either reading: "reject" answers the POST with a 400 in the provider's error
shape and creates no task; "fail" accepts it and fails the task with a reason. The reason of a
failed task is left out with `failure_reasons=False`, as in the only failed task on record.

With `rpm`, the API (submits, status reads, media uploads; not the file host) answers at most
that many requests in any `minute` (60 s, or less on a compressed clock), wherever the minute
starts, and 429 with Retry-After and X-RateLimit-* beyond, as Modellix does per team.

A succeeded task is billed (`billing.amount`) `price_per_second` for each second of its
`duration` (5 s when it asks for none), times `charge_factor`: 3 plays a provider that charges
three times its price list.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_results import Result, make_result

SUBMIT = re.compile(r"^/api/v1/alibaba/wan2\.7-videoedit(/async)?$")
TASK = re.compile(r"^/api/v1/tasks/([\w-]+)$")
FILE = re.compile(r"^/files/([\w-]+)/result\.mp4$")
MEDIA = re.compile(r"^/media/([\w-]+)$")
RATIOS = {"16:9", "9:16", "1:1", "4:3", "3:4"}


@dataclass
class Fault:
    """One scripted answer to one call of an endpoint (see FakeModellix.script).

    Faults combine, applied in this order:

    - `create`: on submit, the task IS created first (the provider acted), whatever answer
      follows. With no other field the caller gets the normal answer for that task.
    - `hang`: seconds to wait before answering (longer than the client's read timeout = a
      timeout; on submit with `create`, the task exists although the caller gave up).
    - `drop`: cut the connection without an answer. On submit the task IS created.
    - `malformed`: answer 200 with an HTML page instead of JSON.
    - `status`, `headers`, `body`: answer with this HTTP status (and headers; `body` replaces the
      default `{"code": status, "message": "<phrase>: scripted"}`).
    - `truncate`: answer normally, but send only this fraction (0-1) of the body, then close the
      connection. `content_length` says whether the full length is announced first (True: the
      client can tell the body is short) or not at all (False: the body ends at the close).
    - `stall`: answer normally, but send half the body, wait this many seconds, then the rest.
    - `hold`: an event that ends a `hang` or a `stall` early when the test sets it (so a test can
      keep a call waiting until it has seen what it wants, then let it finish).
    - `drip`: answer normally, but send the body in `pieces` pieces, this many seconds apart (a
      host that keeps a transfer alive with a few bytes at a time).

    Helpers: `Fault.rate_limited(seconds)` is a 429 with Retry-After; `FakeModellix.outage(
    endpoint, count)` scripts `count` errors in a row.
    """

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    hang: float = 0.0
    malformed: bool = False
    drop: bool = False
    create: bool = False
    truncate: float = 0.0
    content_length: bool = True
    stall: float = 0.0
    hold: threading.Event | None = None
    drip: float = 0.0
    pieces: int = 20

    def pause(self, seconds: float) -> None:
        if self.hold is not None:
            self.hold.wait(seconds)
        else:
            time.sleep(seconds)

    @classmethod
    def rate_limited(cls, seconds: int = 1) -> Fault:
        return cls(
            status=429,
            headers={"Retry-After": str(seconds), "X-RateLimit-Remaining": "0"},
            body=json.dumps({"code": 429, "message": "Rate limit exceeded: too many requests"}),
        )


class Unfetchable(Exception):
    """The fake could not fetch an input it was given; the message says why, in a few words."""


@dataclass
class Task:
    task_id: str
    body: dict[str, Any]
    created: float
    video: bytes
    fail_message: str | None = None
    seconds: float = 3.0
    expired_fetches: int = 0
    checks: list[float] = field(default_factory=list)  # when each status read came (its clock)
    noticed: float | None = None  # when a status read first answered "success"
    making: Future[Result] | None = None  # the realistic result, being made (or made)
    result: Result | None = None


class FakeModellix:
    def __init__(
        self,
        *,
        api_key: str = "test-key",
        task_seconds: float | Callable[[dict[str, Any]], float] = 2.0,
        pending_seconds: float = 0.3,
        host: str = "127.0.0.1",
        port: int = 0,
        billing: bool = True,
        price_per_second: float = 0.1,
        charge_factor: float = 1.0,
        rpm: int = 0,
        minute: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        unfetchable: str = "reject",
        failure_reasons: bool = True,
        realistic: bool = False,
        extra_frames: int = 0,
        colour_shift: float | tuple[float, float, float] = 0.0,
    ) -> None:
        self.api_key = api_key
        # The provider's time in seconds: how long tasks have run, the rate limit's minute. A
        # test may give it the studio's own clock, so that both move only when it says.
        self.clock = clock
        self.task_seconds = task_seconds
        self.pending_seconds = pending_seconds
        self.billing = billing
        self.price_per_second = price_per_second
        self.charge_factor = charge_factor
        self.rpm = rpm  # 0: no limit
        self.minute = minute
        self.unfetchable = unfetchable  # "reject" or "fail" (see the module docstring)
        self.failure_reasons = failure_reasons
        self.realistic = realistic  # results made from the input (see the module docstring)
        self.extra_frames = extra_frames
        self.colour_shift = colour_shift
        self.next_results: deque[dict[str, Any]] = deque()
        self.maker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fake-modellix-result")
        self.answered: deque[float] = deque()  # API requests answered in the last minute
        self.rate_limited: Counter[str] = Counter()  # 429s sent for the rate limit, per endpoint
        self.tasks: dict[str, Task] = {}
        self.media: dict[str, bytes] = {}
        self.counts: Counter[str] = Counter()
        # Calls in progress, and the most at once, per endpoint and per result file
        # ("file:<task id>"); answers cut short because the client hung up.
        self.active: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.hung_up: Counter[str] = Counter()
        self.faults: dict[str, deque[Fault]] = {}
        self.fail_next: deque[str | None] = deque()
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- control ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeModellix:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.maker.shutdown(wait=False, cancel_futures=True)

    def script(self, endpoint: str, *faults: Fault) -> None:
        """Answer the next calls to `endpoint` (submit, status, upload, file) with these faults."""
        with self.lock:
            self.faults.setdefault(endpoint, deque()).extend(faults)

    def outage(self, endpoint: str, count: int, status: int = 503, **fault: Any) -> None:
        """The next `count` calls to `endpoint` fail with `status` (an outage of that endpoint)."""
        self.script(endpoint, *[Fault(status=status, **fault) for _ in range(count)])

    def fail_next_task(self, message: str | None = "The model could not edit this video.") -> None:
        self.fail_next.append(message)

    def next_result(
        self, *, extra_frames: int = 0, colour_shift: float | tuple[float, float, float] = 0.0
    ) -> None:
        """The next realistic result is `extra_frames` longer and shifted by `colour_shift`
        (instead of the fake's own settings); calls queue up, one per task."""
        self.next_results.append({"extra_frames": extra_frames, "colour_shift": colour_shift})

    def finish_now(self, task_id: str) -> None:
        self.tasks[task_id].seconds = 0.0

    def expire_results(self, task_id: str, fetches: int = 1) -> None:
        self.tasks[task_id].expired_fetches = fetches

    def _next_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(endpoint)
            return queue.popleft() if queue else None

    # -- the API ---------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:
                fake._dispatch(self, "POST")

        return Handler

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        handler.body_fault = None  # type: ignore[attr-defined]  # one handler serves a kept-alive connection
        path = handler.path.split("?", 1)[0]
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        routes = [
            ("POST", SUBMIT, "submit", self._submit),
            ("GET", TASK, "status", self._status),
            ("POST", re.compile(r"^/api/v1/media/files$"), "upload", self._upload),
            ("GET", FILE, "file", self._file),
            ("GET", MEDIA, "media", self._media),
        ]
        for verb, pattern, endpoint, action in routes:
            match = pattern.match(path)
            if verb != method or not match:
                continue
            self.counts[endpoint] += 1
            if endpoint not in ("file", "media") and not self._authorised(handler):
                return self._send(
                    handler, 401, {"code": 401, "message": "Authentication failed: invalid API key"}
                )
            if endpoint in ("submit", "status", "upload") and self._over_limit(handler, endpoint):
                return None
            keys = [endpoint] + ([f"file:{match.group(1)}"] if endpoint == "file" else [])
            handler.endpoint = endpoint  # type: ignore[attr-defined]
            with self.lock:
                for key in keys:
                    self.active[key] += 1
                    self.peak[key] = max(self.peak[key], self.active[key])
            try:
                fault = self._next_fault(endpoint)
                if fault is not None and self._apply(handler, fault, endpoint, match, raw):
                    return None
                return action(handler, match, raw)
            finally:
                with self.lock:
                    for key in keys:
                        self.active[key] -= 1
        return self._send(
            handler, 404, {"code": 404, "message": "Resource not found: no such endpoint"}
        )

    def _apply(self, handler, fault: Fault, endpoint: str, match, raw: bytes) -> bool:
        """Play a fault; True when the request was fully answered by it."""
        created = None
        if endpoint == "submit" and (fault.create or fault.drop):
            self.requests.append(("submit", handler.path, json.loads(raw or b"{}")))
            created = self._create(raw)  # the provider got it and started work
        if fault.hang:
            fault.pause(fault.hang)
        if fault.drop:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return True
        handler.body_fault = fault if (fault.truncate or fault.stall or fault.drip) else None
        if fault.malformed:
            self._send_raw(handler, 200, b"<html><body>Bad gateway page</body></html>", "text/html")
            return True
        if fault.status:
            body = (
                fault.body
                if fault.body is not None
                else json.dumps(
                    {
                        "code": fault.status,
                        "message": f"{HTTPStatus(fault.status).phrase}: scripted",
                    }
                )
            )
            self._send_raw(handler, fault.status, body.encode(), "application/json", fault.headers)
            return True
        if created is not None:
            self._accepted(handler, created)
            return True
        return False  # answer normally (late after a hang, or with a damaged body)

    def _over_limit(self, handler: BaseHTTPRequestHandler, endpoint: str) -> bool:
        """Count an API request against the rate limit; answer 429 (and True) beyond it."""
        if not self.rpm:
            return False
        now = self.clock()
        with self.lock:
            while self.answered and self.answered[0] <= now - self.minute:
                self.answered.popleft()
            if len(self.answered) < self.rpm:
                self.answered.append(now)
                return False
            self.rate_limited[endpoint] += 1
            reset = self.answered[0] + self.minute - now
        # Retry-After in the provider's seconds: a compressed minute compresses them too.
        seconds = max(1, int(-(-reset * 60 // self.minute)))
        self._send_raw(
            handler,
            429,
            json.dumps({"code": 429, "message": "Rate limit exceeded: too many requests"}).encode(),
            "application/json",
            {
                "Retry-After": str(seconds),
                "X-RateLimit-Limit": str(self.rpm),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(seconds),
            },
        )
        return True

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        return handler.headers.get("Authorization", "") == f"Bearer {self.api_key}"

    def _submit(self, handler, match, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._send(
                handler, 400, {"code": 400, "message": "Invalid format: invalid JSON format"}
            )
        self.requests.append(("submit", handler.path, body))
        problem = validate(body)
        if problem:
            return self._send(handler, 400, {"code": 400, "message": problem})
        try:
            video = self._video_bytes(str(body.get("video_url", "")))
        except Unfetchable as why:
            if self.unfetchable == "reject":
                said = f"Invalid parameters: parameter 'video_url' could not be downloaded ({why})"
                return self._send(handler, 400, {"code": 400, "message": said})
            return self._accepted(handler, self._create(raw, video=b"", unfetched=str(why)))
        return self._accepted(handler, self._create(raw, video=video))

    def _accepted(self, handler, task: Task) -> None:
        return self._send(
            handler,
            200,
            {
                "code": 0,
                "message": "success",
                "data": {
                    "status": "pending",
                    "task_id": task.task_id,
                    "model_id": "model-123",
                    "get_result": {
                        "method": "GET",
                        "url": f"{self.url}/api/v1/tasks/{task.task_id}",
                    },
                },
            },
        )

    def _create(self, raw: bytes, *, video: bytes | None = None, unfetched: str = "") -> Task:
        """A new task. Without `video`, the input is fetched now; one that cannot be fails the
        task (a scripted fault answers the POST, so it cannot be refused)."""
        body = json.loads(raw or b"{}")
        if video is None:
            try:
                video = self._video_bytes(str(body.get("video_url", "")))
            except Unfetchable as why:
                video, unfetched = b"", str(why)
        fail_message = self.fail_next.popleft() if self.fail_next else None
        if unfetched:
            fail_message = f"Failed to download video_url ({unfetched})"
        task = Task(
            task_id=f"task-{uuid.uuid4().hex[:12]}",
            body=body,
            created=self.clock(),
            video=video,
            fail_message=fail_message,
            seconds=self.task_seconds(body) if callable(self.task_seconds) else self.task_seconds,
        )
        options = self.next_results.popleft() if self.next_results else None
        if self.realistic and video and fail_message is None:
            # Made while the task runs, as the model works; a status read waits for it.
            options = options or {
                "extra_frames": self.extra_frames,
                "colour_shift": self.colour_shift,
            }
            task.making = self.maker.submit(make_result, video, body, **options)
        with self.lock:
            self.tasks[task.task_id] = task
        return task

    def _made(self, task: Task) -> Result | None:
        """The task's realistic result, once made; an input the model cannot read fails it."""
        if task.making is None or task.result is not None:
            return task.result
        try:
            task.result = task.making.result()
        except Exception as error:  # the model cannot decode what it was given
            task.fail_message = f"The model could not read the input video ({error})."
            task.making = None
        return task.result

    def _video_bytes(self, url: str) -> bytes:
        """The input at `url`, as the provider would fetch it; Unfetchable when it cannot."""
        if url.startswith("data:"):
            try:
                return base64.b64decode(url.split(",", 1)[1], validate=True)
            except (IndexError, binascii.Error):
                raise Unfetchable("the data: URL is not valid base64") from None
        media = MEDIA.match(url.replace(self.url, ""))
        if media:
            if media.group(1) not in self.media:
                raise Unfetchable("no uploaded file has this address")
            return self.media[media.group(1)]
        if not url.startswith(("http://", "https://")):
            raise Unfetchable("only http, https and data: URLs can be fetched")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (test fake)
                data = response.read()
        except urllib.error.HTTPError as error:
            raise Unfetchable(f"HTTP {error.code}") from None
        except (OSError, http.client.HTTPException) as error:  # refused, timed out, cut short
            cause = getattr(error, "reason", error)
            said = getattr(cause, "strerror", None) or str(cause) or type(cause).__name__
            raise Unfetchable(said.lower()) from None
        if not data:
            raise Unfetchable("the file is empty")
        return data

    def _status(self, handler, match, raw: bytes) -> None:
        task = self.tasks.get(match.group(1))
        if task is None:
            return self._send(
                handler, 404, {"code": 404, "message": "Resource not found: task not found"}
            )
        now = self.clock()
        task.checks.append(now)
        age = now - task.created
        data: dict[str, Any] = {"task_id": task.task_id, "model_id": "model-123"}
        if age < min(self.pending_seconds, task.seconds):
            data["status"] = "pending"
        elif age < task.seconds:
            data["status"] = "processing"
        elif self._made(task) is None and (task.fail_message is not None or not task.video):
            data["status"] = "failed"
            if task.fail_message and self.failure_reasons:
                data["error"] = {"message": task.fail_message}
        else:
            width, height = (1280, 720) if task.body.get("resolution") == "720P" else (1920, 1080)
            if task.result is not None:
                width, height = task.result.width, task.result.height
            data.update(
                status="success",
                duration=int(task.seconds * 1000),
                result={
                    "resources": [
                        {
                            "url": f"{self.url}/files/{task.task_id}/result.mp4",
                            "type": "video",
                            "width": width,
                            "height": height,
                            "format": "mp4",
                        }
                    ]
                },
                result_expires_at=int((time.time() + 7 * 86400) * 1000),
            )
            if task.noticed is None:
                task.noticed = now
            if self.billing:
                seconds = task.body.get("duration") or 5
                amount = self.price_per_second * seconds * self.charge_factor
                data["billing"] = {"status": "succeeded", "amount": f"{amount:.4f}"}
        return self._send(handler, 200, {"code": 0, "message": "success", "data": data})

    def _upload(self, handler, match, raw: bytes) -> None:
        content = (
            raw.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0] if b"\r\n\r\n" in raw else b""
        )
        file_id = uuid.uuid4().hex[:12]
        self.media[file_id] = content
        return self._send(
            handler,
            200,
            {
                "code": 0,
                "message": "success",
                "data": {
                    "file_id": file_id,
                    "type": "video",
                    "url": f"{self.url}/media/{file_id}",
                    "filename": "upload",
                    "size": len(content),
                    "created_at": int(time.time()),
                },
            },
        )

    def _media(self, handler, match, raw: bytes) -> None:
        data = self.media.get(match.group(1))
        if data is None:
            return self._send(handler, 404, {"code": 404, "message": "Resource not found"})
        return self._send_raw(handler, 200, data, "application/octet-stream")

    def _file(self, handler, match, raw: bytes) -> None:
        task = self.tasks.get(match.group(1))
        if task is None or task.expired_fetches > 0:
            if task is not None:
                task.expired_fetches -= 1
            return self._send_raw(
                handler, 403, b"<Error>AccessDenied: Request has expired</Error>", "application/xml"
            )
        made = self._made(task)
        return self._send_raw(handler, 200, made.data if made else task.video, "video/mp4")

    # -- plumbing --------------------------------------------------------------------------
    def _send(self, handler, status: int, payload: dict[str, Any]) -> None:
        self._send_raw(handler, status, json.dumps(payload).encode(), "application/json")

    def _send_raw(
        self, handler, status: int, data: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        fault: Fault | None = getattr(handler, "body_fault", None)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", kind)
            if fault is None or fault.content_length:
                handler.send_header("Content-Length", str(len(data)))
            else:
                handler.send_header("Connection", "close")
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            if fault is not None and fault.truncate:
                handler.wfile.write(data[: int(len(data) * fault.truncate)])
                handler.wfile.flush()
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
            elif fault is not None and fault.stall:
                handler.wfile.write(data[: len(data) // 2])
                handler.wfile.flush()
                fault.pause(fault.stall)
                handler.wfile.write(data[len(data) // 2 :])
            elif fault is not None and fault.drip:
                size = -(-len(data) // fault.pieces)
                for start in range(0, len(data), size):
                    handler.wfile.write(data[start : start + size])
                    handler.wfile.flush()
                    time.sleep(fault.drip)
            else:
                handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            with self.lock:
                self.hung_up[getattr(handler, "endpoint", "")] += 1


def validate(body: dict[str, Any]) -> str | None:
    """The checks of the seed page, answered as '<Category>: <detail>'."""
    if not body.get("video_url"):
        return "Missing required parameter: parameter 'video_url' is required"
    prompt = body.get("prompt")
    if prompt is not None and not (1 <= len(str(prompt)) <= 5000):
        return "Value out of range: parameter 'prompt' must be 1-5000 characters"
    if len(str(body.get("negative_prompt") or "")) > 500:
        return "Value out of range: parameter 'negative_prompt' must be at most 500 characters"
    refs = body.get("reference_images") or []
    if not isinstance(refs, list) or len(refs) > 4:
        return "Value out of range: parameter 'reference_images' allows at most 4 items"
    if body.get("resolution", "1080P") not in ("720P", "1080P"):
        return "Invalid parameters: parameter 'resolution' must be 720P or 1080P"
    if "ratio" in body and body["ratio"] not in RATIOS:
        return "Invalid parameters: parameter 'ratio' must be one of 16:9, 9:16, 1:1, 4:3, 3:4"
    duration = body.get("duration", 0)
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not (duration == 0 or 2 <= duration <= 10)
    ):
        return "Value out of range: parameter 'duration' must be 0 or between 2 and 10"
    if body.get("audio_setting", "auto") not in ("auto", "origin"):
        return "Invalid parameters: parameter 'audio_setting' must be auto or origin"
    if not isinstance(body.get("prompt_extend", True), bool):
        return "Invalid format: parameter 'prompt_extend' must be a boolean"
    seed = body.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not (0 <= seed <= 2147483647):
        return "Value out of range: parameter 'seed' must be between 0 and 2147483647"
    return None
