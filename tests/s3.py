"""A real S3-compatible server for the tests: moto's server mode, on loopback, one per session.

Each test that asks for `s3` gets a bucket of its own, the default storage switched to it (as
STUDIO_STORAGE=s3 does), and `s3.env()` for child processes (workers, web) to use the same.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

ACCESS_KEY = "cutroom-test"
SECRET_KEY = "cutroom-test-secret"  # noqa: S105 (moto accepts any)
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """Start moto's S3 server in a process of its own; yield its endpoint URL."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy machine starts it slowly
        while True:
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto's server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield endpoint
    finally:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


@dataclass
class Bucket:
    endpoint: str
    name: str
    prefix: str = "studio"

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create(self) -> Bucket:
        self.client().create_bucket(Bucket=self.name)
        return self

    def keys(self) -> list[str]:
        """Every object's key in the bucket, the prefix included."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=self.name, Key=key)["Body"].read())

    def env(self) -> dict[str, str]:
        """STUDIO_STORAGE=s3 and its settings, for a child process."""
        return {
            "STUDIO_STORAGE": "s3",
            "STUDIO_S3_BUCKET": self.name,
            "STUDIO_S3_ENDPOINT_URL": self.endpoint,
            "STUDIO_S3_REGION": REGION,
            "STUDIO_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "STUDIO_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "STUDIO_S3_PATH_STYLE": "true",
            "STUDIO_S3_PREFIX": self.prefix,
        }

    def storages(self) -> dict[str, Any]:
        """settings.STORAGES as studio/settings.py makes it from env()."""
        return {
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": self.name,
                    "endpoint_url": self.endpoint,
                    "region_name": REGION,
                    "access_key": ACCESS_KEY,
                    "secret_key": SECRET_KEY,
                    "addressing_style": "path",
                    "signature_version": "s3v4",
                    "location": self.prefix,
                    "default_acl": None,
                    "querystring_auth": True,
                    "querystring_expire": 300,
                    "file_overwrite": False,
                    "object_parameters": {"CacheControl": "private, max-age=86400"},
                },
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }


def new_bucket(endpoint: str) -> Bucket:
    return Bucket(endpoint, f"cutroom-{uuid.uuid4().hex[:12]}").create()


class FlakyProxy:
    """A bucket that goes away: a TCP proxy on loopback in front of moto's server.

    It forwards every connection until refuse() (or, with `fail_at` set, until a request that
    holds those bytes arrives, which is cut before it reaches moto): then it refuses new
    connections, as an unreachable host does, and cuts the open ones, until restore().
    """

    def __init__(self, endpoint: str) -> None:
        target = urlsplit(endpoint)
        self.target = (str(target.hostname), int(target.port or 80))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.fail_at: bytes | None = None
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        """The bucket is back: connections are forwarded again."""
        self.fail_at = None
        with self.lock:
            if self.listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(16)
            self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def refuse(self) -> None:
        """The bucket goes away: new connections are refused and open ones cut."""
        with self.lock:
            listener, self.listener = self.listener, None
            sockets, self.open = self.open, set()
        for each in ([listener] if listener else []) + list(sockets):
            with suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept() or recv()
            each.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # refused from now on
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open |= {client, upstream}
            for source, sink, outgoing in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(
                    target=self._pump, args=(source, sink, outgoing), daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outgoing: bool) -> None:
        tail = b""
        try:
            while data := source.recv(65536):
                if outgoing and self.fail_at is not None and self.fail_at in tail + data:
                    self.refuse()
                    return
                tail = data[-256:]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for each in (source, sink):
                with suppress(OSError):
                    each.shutdown(socket.SHUT_RDWR)
                each.close()
