"""Serve stored files with HTTP Range, which Django lacks and <video> seeking needs.

One range per request (`bytes=a-b`, `bytes=a-`, `bytes=-n`) is answered with 206; an
unsatisfiable one with 416; several ranges, or a malformed header, with the whole file (200),
which RFC 9110 allows. Malformed includes anything but ASCII digits (`str.isdigit` and `int`
accept superscripts and other scripts' digits) and numbers longer than any file size.
ETag and If-Range keep a resumed download from mixing two versions.

Files in object storage are not streamed through us: the answer is a redirect to a presigned
address that expires after `link_seconds`, so Range, seeking and large files go straight to the
bucket. The redirect itself is never cached, so every request passes the access check again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import http_date

from studio.core.filenames import content_disposition
from studio.storage.files import direct_url

CHUNK = 256 * 1024
# first-last, either may be empty; ASCII digits only, at most 18 (any file size fits, and `int`
# never sees a 5000-digit string). Spaces around the numbers are tolerated as before.
_SPEC = re.compile(r" *([0-9]{0,18}) *- *([0-9]{0,18}) *", re.ASCII)


class Unsatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive, for one satisfiable range; None means the whole file."""
    unit, _, spec = header.partition("=")
    match = _SPEC.fullmatch(spec) if unit.strip().lower() == "bytes" else None
    if match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:  # a suffix: the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - count), size - 1
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignore the header
    if start >= size:
        raise Unsatisfiable
    end = int(last) if last else size - 1
    return start, min(end, size - 1)


def _read(field: FieldFile, start: int, length: int) -> Iterator[bytes]:
    with field.storage.open(field.name or "", "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def serve_file(
    request: HttpRequest,
    field: FieldFile,
    *,
    content_type: str,
    download_name: str,
    as_attachment: bool = False,
    cache_control: str = "private, max-age=3600",  # share links: no-store, see views/shares.py
    link_seconds: int | None = None,  # object storage: how long the presigned address works
) -> HttpResponseBase:
    seconds = settings.S3_URL_SECONDS if link_seconds is None else link_seconds
    # Never kept longer than the address works.
    keep = cache_control if "no-store" in cache_control else f"private, max-age={seconds}"
    url = direct_url(
        field,
        seconds=seconds,
        content_type=content_type,
        download_name=download_name,
        as_attachment=as_attachment,
        cache_control=keep,
    )
    if url is not None:
        redirect = HttpResponseRedirect(url)
        redirect["Cache-Control"] = "private, no-store"
        return redirect
    storage, name = field.storage, field.name or ""
    size = storage.size(name)
    modified = storage.get_modified_time(name)
    etag = f'"{size:x}-{int(modified.timestamp() * 1000):x}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(modified.timestamp()),
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Content-Disposition": content_disposition(download_name, as_attachment=as_attachment),
    }
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponse(status=304, headers=headers)
    header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range not in (etag, headers["Last-Modified"]):
        header = ""  # the file changed since the client's first part: send it whole
    try:
        span = parse_range(header, size) if header else None
    except Unsatisfiable:
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = span if span else (0, size - 1)
    length = end - start + 1 if size else 0
    body = iter(()) if request.method == "HEAD" else _read(field, start, length)
    response = StreamingHttpResponse(
        body, status=206 if span else 200, content_type=content_type, headers=headers
    )
    response["Content-Length"] = str(length)
    if span:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
