"""Result downloads never reach into our own network (SSRF): redirects, DNS rebinding and IPv6
forms that carry a private IPv4 address included; TLS still checks the host name."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from urllib3.util import connection as urllib3_connection

from studio.providers.base import Failure, ProviderError
from studio.providers.modellix import Modellix, check_download_url
from studio.providers.transport import allowed_addresses

PUBLIC = "93.184.216.34"
REAL_GETADDRINFO = socket.getaddrinfo
REAL_CREATE_CONNECTION = urllib3_connection.create_connection


def answer(address: str, port: int) -> tuple:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return (family, socket.SOCK_STREAM, 6, "", (address, port))


def resolving(monkeypatch, *answers: list[str]) -> list[str]:
    """Every lookup of a name answers with the next list of addresses (the last one repeats);
    literal addresses resolve as usual. Returns the names looked up."""
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in str(host) else socket.AF_INET, str(host))
        except OSError:
            addresses = answers[min(len(asked), len(answers) - 1)]
            asked.append(host)
            return [answer(address, int(port or 443)) for address in addresses]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def client() -> Modellix:
    return Modellix(api_key="k", base_url="http://x", submit_path="/", media_mode="upload")


# -- the link itself ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "message"),
    [("file:///etc/passwd", "not a web address"), ("gopher://cdn.example.com/", "not a web")],
)
def test_only_web_links(url, message):
    with pytest.raises(ProviderError) as caught:
        check_download_url(url)
    assert message in caught.value.message and caught.value.failure == Failure.REJECTED


def test_host_allow_list(settings):
    settings.RESULT_HOSTS = ["cdn.modellix.example"]
    with pytest.raises(ProviderError) as caught:
        check_download_url("https://evil.example.com/x.mp4")
    assert "not an allowed result host" in caught.value.message
    check_download_url("https://cdn.modellix.example/x.mp4")


# -- the addresses a name resolves to ------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "169.254.169.254",
        "127.0.0.1",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::5",
        "fec0::1",
        "ff0e::1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:127.0.0.1",
        "::a00:1",  # IPv4-compatible (deprecated)
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::a00:1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:5::1",  # 6to4 of 10.0.0.5
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    ],
)
def test_private_addresses_and_their_ipv6_forms_are_refused(monkeypatch, settings, address):
    settings.DOWNLOAD_ALLOW_LOOPBACK = False
    resolving(monkeypatch, [address])
    with pytest.raises(ProviderError) as caught:
        allowed_addresses("cdn.example.com", 443, https=True)
    assert caught.value.message.startswith("The result link points into a private network")
    assert caught.value.failure == Failure.REJECTED


@pytest.mark.parametrize(
    "address",
    [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34", "64:ff9b::5db8:d822"],
)
def test_public_addresses_pass(monkeypatch, settings, address):
    settings.DOWNLOAD_ALLOW_LOOPBACK = False
    resolving(monkeypatch, [address])
    found = allowed_addresses("cdn.example.com", 443, https=True)
    assert found == [ipaddress.ip_address(address)]


def test_one_private_address_among_public_ones_refuses_the_host(monkeypatch, settings):
    settings.DOWNLOAD_ALLOW_LOOPBACK = False
    resolving(monkeypatch, [PUBLIC, "10.0.0.5"])
    with pytest.raises(ProviderError):
        allowed_addresses("cdn.example.com", 443, https=True)


def test_plain_http_only_to_loopback_when_allowed(monkeypatch, settings):
    resolving(monkeypatch, [PUBLIC])
    with pytest.raises(ProviderError) as caught:
        allowed_addresses("cdn.example.com", 80, https=False)
    assert caught.value.message == "The result link is not https."
    settings.DOWNLOAD_ALLOW_LOOPBACK = True
    resolving(monkeypatch, ["127.0.0.1"])
    assert [str(a) for a in allowed_addresses("fake.local", 80, https=False)] == ["127.0.0.1"]
    resolving(monkeypatch, ["10.1.2.3"])
    with pytest.raises(ProviderError):
        allowed_addresses("fake.local", 80, https=False)


# -- connecting to what was checked --------------------------------------------------------------
class Canary:
    """Counts every TCP connection made to it on 127.0.0.1."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.sock.close()


def test_dns_rebinding_never_reaches_loopback(monkeypatch, settings, tmp_path, canary):
    """The first lookup says public, every later one 127.0.0.1: a guard that checks one answer
    and lets the HTTP library look the name up again connects to the canary. Ours looks up once
    and connects to the address it checked."""
    settings.DOWNLOAD_ALLOW_LOOPBACK = False
    asked = resolving(monkeypatch, [PUBLIC], ["127.0.0.1"])
    tried: list[tuple[str, int]] = []

    def create_connection(address, *args, **kwargs):
        tried.append(address)
        if address[0] == PUBLIC:  # no internet here: the public host does not answer
            raise ConnectionRefusedError(111, "Connection refused")
        return REAL_CREATE_CONNECTION(address, *args, **kwargs)

    monkeypatch.setattr(urllib3_connection, "create_connection", create_connection)
    with pytest.raises(ProviderError) as caught:
        client().fetch(
            f"https://cdn.example.com:{canary.port}/x.mp4", tmp_path / "x.mp4", max_bytes=10
        )
    assert caught.value.failure == Failure.RETRY  # "cannot be reached", as any refusal
    assert tried == [(PUBLIC, canary.port)] and asked == ["cdn.example.com"]
    assert canary.hits == 0


@pytest.mark.django_db
def test_redirect_to_a_private_address_is_refused(settings, tmp_path, canary):
    """A result host that redirects into our network (checked on every hop)."""

    class Redirector(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"http://10.0.0.5:{canary.port}/secret")
            self.end_headers()

        def log_message(self, *args):
            return

    redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    threading.Thread(target=redirector.serve_forever, daemon=True).start()
    settings.DOWNLOAD_ALLOW_LOOPBACK = True  # so the first hop (our test server) is allowed
    try:
        with pytest.raises(ProviderError) as caught:
            client().fetch(
                f"http://127.0.0.1:{redirector.server_address[1]}/r", tmp_path / "o", max_bytes=10
            )
        assert "private network" in caught.value.message or "not https" in caught.value.message
        assert canary.hits == 0
    finally:
        redirector.shutdown()


# -- TLS keeps the host name --------------------------------------------------------------------
def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class TLSResults:
    """An https result host on 127.0.0.1 that records the SNI name and Host header it got."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.names: list[str | None] = []
        self.hosts: list[str] = []
        results = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                results.hosts.append(self.headers.get("Host", ""))
                body = b"result bytes"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                return

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda sock, name, ctx: self.names.append(name)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_tls_sends_and_verifies_the_host_name_while_connecting_to_the_address(
    monkeypatch, settings, tmp_path
):
    settings.DOWNLOAD_ALLOW_LOOPBACK = True
    cert, key = self_signed(tmp_path, "results.test")  # valid for the name only, not for an IP
    host = TLSResults(cert, key)
    resolving(monkeypatch, ["127.0.0.1"])
    downloads = client()
    downloads.downloads.verify = str(cert)
    try:
        url = f"https://results.test:{host.port}/files/t/result.mp4"
        assert downloads.fetch(url, tmp_path / "r.mp4", max_bytes=1000) == 12
        assert (tmp_path / "r.mp4").read_bytes() == b"result bytes"
        assert host.names == ["results.test"] and host.hosts == [f"results.test:{host.port}"]
        # A certificate for another name is refused although the address is the same.
        other = self_signed(tmp_path, "other.test")
        impostor = TLSResults(*other)
        with pytest.raises(ProviderError):
            downloads.fetch(
                f"https://results.test:{impostor.port}/x", tmp_path / "x.mp4", max_bytes=1000
            )
        assert impostor.names == ["results.test"] and impostor.hosts == []
        assert not (tmp_path / "x.mp4").exists()
    finally:
        host.server.shutdown()
