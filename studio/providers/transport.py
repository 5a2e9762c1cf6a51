"""HTTP plumbing of the Modellix client: deadlines for whole exchanges, and pinned downloads.

Deadlines. requests' timeouts limit each wait for bytes, not an exchange: a host that sends one
byte every few seconds keeps a call going for ever. `Deadline` bounds a whole exchange (connect,
request, answer, streamed body) in wall time: when it passes, the sockets the exchange opened are
shut down, so whatever waits on them returns at once, and the caller sees `deadline.expired`.

Pinned downloads (SSRF). A check that resolves a host name and then lets the HTTP library resolve
it again can be fooled by DNS rebinding: the first answer is public, the second 127.0.0.1. Result
downloads resolve once, in the connection itself, check every address, and connect to a checked
address; TLS still sends and verifies the host name (SNI and certificate), and the Host header
stays the name, because the connection keeps the name and only the socket goes to the address.

An in-house guard, not a library: advocate, the usual requests wrapper, has had no release since
2020; requests-hardened pins the same way but checks only the first address, refuses NAT64 and
6to4 outright instead of checking the IPv4 address inside them, and leaves no place for the
deadline hook that the same connection class needs.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from contextlib import suppress
from typing import Any

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection
from urllib3.util.connection import allowed_gai_family

from studio.providers.base import Failure, ProviderError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# -- deadlines --------------------------------------------------------------------------------
_current = threading.local()


class Deadline:
    """`with Deadline(seconds):` every connection used inside, in this thread, is shut down when
    the time is up. Check `expired` afterwards: a shut socket can also look like a short body."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._outer: Deadline | None = None

    def __enter__(self) -> Deadline:
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.deadline = self._outer
        with self._lock:
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shut(sock)
            elif sock not in self._sockets:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for an SSLSocket: it wakes a blocked read in another
    # thread without tearing down the TLS object under it. A closed socket has no descriptor
    # left (fileno -1), so this can never reach a new socket that reused the number.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(sock: Any) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


# -- which addresses a result download may reach -------------------------------------------------
# Ranges that are not public although some Python versions call them global (the lists in
# `ipaddress` changed in 3.12.4 and 3.13), or that only carry other addresses.
NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT: can reach a provider's internal workloads
        "192.0.0.0/24",
        "192.88.99.0/24",  # 6to4 relays
        "198.18.0.0/15",
        "224.0.0.0/3",  # multicast and reserved
        "::/96",  # IPv4-compatible (deprecated), :: and ::1 among them
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",
        "2001::/23",  # IETF protocol assignments, Teredo (2001::/32) among them
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fec0::/10",  # site-local (deprecated)
        "fe80::/10",
        "ff00::/8",
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and reaches (mapped, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


def is_public(address: Address) -> bool:
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_public(inner)
    if isinstance(address, ipaddress.IPv6Address) and address.teredo is not None:
        return False  # a tunnel to anywhere, its client address obfuscated: never a result host
    return address.is_global and not any(
        address.version == net.version and address in net for net in NOT_PUBLIC
    )


def allowed_addresses(host: str, port: int, *, https: bool) -> list[Address]:
    """Resolve `host` once and return its addresses, refusing any that is not public.

    Plain http is only for loopback, and only when STUDIO_DOWNLOAD_ALLOW_LOOPBACK allows it (tests
    and the fake provider). socket.gaierror propagates (the host cannot be found).
    """
    infos = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    loopback_ok = settings.DOWNLOAD_ALLOW_LOOPBACK
    for address in addresses:
        if not (is_public(address) or (loopback_ok and address.is_loopback)):
            raise ProviderError(
                "The result link points into a private network; Cutroom does not fetch it.",
                Failure.REJECTED,
                detail=f"{host} -> {address}",
            )
    if not https and not (loopback_ok and all(a.is_loopback for a in addresses)):
        raise ProviderError("The result link is not https.", Failure.REJECTED, detail=host)
    return addresses


# -- connections --------------------------------------------------------------------------------
class _Watched:
    """Hands every socket it uses to the deadline of the exchange in progress."""

    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _watch(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection; a new one is watched in connect()
        super().request(*args, **kwargs)  # type: ignore[misc]


class _Pinned:
    """Connects only to an address that `allowed_addresses` checked, from one lookup."""

    https = False
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        try:
            addresses = allowed_addresses(self._dns_host, self.port, https=self.https)
        except socket.gaierror as unresolved:
            raise NameResolutionError(self.host, self, unresolved) from unresolved  # type: ignore[arg-type]
        error: OSError | None = None
        for address in addresses:
            try:
                sock = connection.create_connection(
                    (str(address), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as failed:
                error = failed
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(error, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from error
        raise NewConnectionError(
            self,  # type: ignore[arg-type]  # an HTTPSConnection of ours, not urllib3's base
            f"Failed to establish a new connection: {error}",
        ) from error


class TimedHTTPConnection(_Watched, HTTPConnection):
    pass


class TimedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class PinnedHTTPConnection(_Pinned, TimedHTTPConnection):
    https = False


class PinnedHTTPSConnection(_Pinned, TimedHTTPSConnection):
    https = True


def _pool(base: type, connection_class: type) -> type:
    return type(f"{connection_class.__name__}Pool", (base,), {"ConnectionCls": connection_class})


class TimedAdapter(HTTPAdapter):
    """A requests adapter whose connections honour `Deadline` (calls to the Modellix API)."""

    pool_classes = {
        "http": _pool(HTTPConnectionPool, TimedHTTPConnection),
        "https": _pool(HTTPSConnectionPool, TimedHTTPSConnection),
    }

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self.pool_classes)


class PinnedAdapter(TimedAdapter):
    """…and that connect only to checked public addresses (result downloads)."""

    pool_classes = {
        "http": _pool(HTTPConnectionPool, PinnedHTTPConnection),
        "https": _pool(HTTPSConnectionPool, PinnedHTTPSConnection),
    }
