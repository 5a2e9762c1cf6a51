"""In Chromium, with the files in a bucket (moto's S3 server): the players load media straight
from the bucket under the studio's own CSP, and a refused (expired) address is renewed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.urls import reverse
from playwright.sync_api import Page

from tests.e2e.conftest import finish_take, make_take, shot, sign_in, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bucket_take(s3, team, alice, bob, samples, tmp_path):
    from studio.models import Project
    from tests.conftest import client_for, upload_clip

    project = Project.objects.create(team=team, name="Bucket", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["long.mp4"], name="harbour.mp4")
    return finish_take(make_take(project, clip, bob, prompt="cool winter", seed=1), tmp_path)


READY = "[...document.querySelectorAll('video')].every(v => v.readyState >= 2)"


@pytest.mark.parametrize(
    ("name", "width", "height"),
    [("desktop", 1440, 900), ("tablet", 1024, 768), ("phone", 390, 844)],
)
def test_the_compare_player_plays_from_the_bucket(
    page: Page, live_server, s3, bob, bucket_take, name, width, height, console_errors
):
    served: dict[str, int] = {}
    page.on(
        "response",
        lambda r: (
            served.__setitem__(r.url.split("?")[0], r.status)
            if r.url.startswith(s3.endpoint)
            else None
        ),
    )
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('take_detail', args=[bucket_take.code])}")
    wait_until(page, READY)
    # Both sides and the poster came from the bucket, by presigned addresses, and nothing else.
    take = bucket_take
    wanted = {take.input_clip.file.name, take.result.name}
    keys = {url.removeprefix(f"{s3.endpoint}/{s3.name}/studio/") for url in served}
    assert wanted <= keys, served
    assert all(status in (200, 206) for status in served.values()), served
    shot(page, f"bucket-take-{name}")
    # console_errors: no Content-Security-Policy violation, nothing refused.


class ExpiringBucket:
    """A proxy in front of moto's server that refuses the first GET of a file, as S3 refuses
    an address whose time is up (moto itself does not check presigned expiry)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refused: list[str] = []
        self.served: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?")[0]
                if path.endswith(".mp4") and not outer.refused:
                    outer.refused.append(self.path)
                    body = b"<Error><Code>AccessDenied</Code><Message>Expired</Message></Error>"
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                outer.served.append(self.path)
                self.forward("GET")

            def do_HEAD(self) -> None:  # noqa: N802 (the storage's exists() asks first)
                self.forward("HEAD")

            def forward(self, method: str) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = requests.request(
                    method, outer.upstream + self.path, headers=headers, timeout=30
                )
                self.send_response(answer.status_code)
                for key in ("Content-Type", "Content-Range", "Accept-Ranges", "ETag"):
                    if key in answer.headers:
                        self.send_header(key, answer.headers[key])
                length = answer.headers.get("Content-Length", str(len(answer.content)))
                self.send_header("Content-Length", length)
                self.end_headers()
                if method == "GET":
                    self.wfile.write(answer.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


def test_a_refused_address_is_renewed_and_the_player_carries_on(
    page: Page, live_server, s3, bob, bucket_take, settings
):
    proxy = ExpiringBucket(s3.endpoint)
    storages = s3.storages()
    storages["default"]["OPTIONS"]["endpoint_url"] = proxy.url  # addresses are signed for it
    settings.STORAGES = storages
    settings.SECURE_CSP = settings.SECURE_CSP | {"media-src": ["'self'", proxy.url]}
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/media/clip/" in r.url else None)
    try:
        sign_in(page, live_server.url, bob.email)
        clip = bucket_take.clip
        page.goto(f"{live_server.url}{reverse('clip_detail', args=[clip.code])}")
        wait_until(page, "document.getElementById('clip-video').readyState >= 1")
    finally:
        proxy.stop()
    assert len(proxy.refused) == 1 and proxy.served
    # The renewal went through our own address again (a fresh access check and link).
    playable = reverse("media_file", args=["clip", clip.code, clip.playable])
    assert sum(url.endswith(playable) for url in asked) == 2
