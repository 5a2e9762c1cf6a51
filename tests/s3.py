"""A real S3-compatible server for the tests: moto's server mode, on loopback, one per session.

Each test that asks for `s3` gets a bucket of its own, the default storage switched to it (as
STUDIO_STORAGE=s3 does), and `s3.env()` for child processes (workers, web) to use the same.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
