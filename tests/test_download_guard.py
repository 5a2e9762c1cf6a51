"""Result downloads never reach into our own network (SSRF), redirects included."""

from __future__ import annotations

import socket

import pytest

from studio.providers.base import Failure, ProviderError
from studio.providers.modellix import check_download_url


def resolving_to(monkeypatch, address: str) -> None:
    def fake_getaddrinfo(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


@pytest.mark.parametrize(
    ("url", "address", "message"),
    [
        ("https://cdn.example.com/x.mp4", "10.0.0.5", "private network"),
        ("https://cdn.example.com/x.mp4", "169.254.169.254", "private network"),
        ("https://cdn.example.com/x.mp4", "127.0.0.1", "private network"),
        ("https://cdn.example.com/x.mp4", "::1", "private network"),
        ("http://cdn.example.com/x.mp4", "93.184.216.34", "not https"),
        ("file:///etc/passwd", "93.184.216.34", "not a web address"),
        ("gopher://cdn.example.com/", "93.184.216.34", "not a web address"),
    ],
)
def test_refused(monkeypatch, settings, url, address, message):
    settings.DOWNLOAD_ALLOW_LOOPBACK = False
    resolving_to(monkeypatch, address)
    with pytest.raises(ProviderError) as caught:
        check_download_url(url)
    assert message in caught.value.message
    assert caught.value.failure == Failure.REJECTED


def test_public_https_is_fine(monkeypatch, settings):
    resolving_to(monkeypatch, "93.184.216.34")
    check_download_url("https://cdn.example.com/x.mp4")


def test_loopback_only_when_allowed(monkeypatch, settings):
    resolving_to(monkeypatch, "127.0.0.1")
    settings.DOWNLOAD_ALLOW_LOOPBACK = True
    check_download_url("http://127.0.0.1:9000/x.mp4")
    resolving_to(monkeypatch, "10.1.2.3")
    with pytest.raises(ProviderError):
        check_download_url("http://fake.local/x.mp4")


def test_host_allow_list(monkeypatch, settings):
    resolving_to(monkeypatch, "93.184.216.34")
    settings.RESULT_HOSTS = ["cdn.modellix.example"]
    with pytest.raises(ProviderError) as caught:
        check_download_url("https://evil.example.com/x.mp4")
    assert "not an allowed result host" in caught.value.message
    check_download_url("https://cdn.modellix.example/x.mp4")


@pytest.mark.django_db
def test_redirect_to_loopback_is_refused(settings, tmp_path):
    """A public-looking result host that redirects into our network (checked on every hop)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = []

    class Canary(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            return

    class Redirector(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"http://10.0.0.5:{canary.server_address[1]}/secret")
            self.end_headers()

        def log_message(self, *args):
            return

    canary = ThreadingHTTPServer(("127.0.0.1", 0), Canary)
    redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    for server in (canary, redirector):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.DOWNLOAD_ALLOW_LOOPBACK = True  # so the first hop (our test server) is allowed
    from studio.providers.modellix import Modellix

    client = Modellix(api_key="k", base_url="http://x", submit_path="/", media_mode="upload")
    try:
        with pytest.raises(ProviderError) as caught:
            client.fetch(
                f"http://127.0.0.1:{redirector.server_address[1]}/r", tmp_path / "o", max_bytes=10
            )
        assert "private network" in caught.value.message or "not https" in caught.value.message
        assert hits == []
    finally:
        canary.shutdown()
        redirector.shutdown()
