"""Upload large generated files through a real gunicorn server; print throughput and memory.

    .venv/bin/python bench/upload.py [--sizes 256,1024] [--port 8731] [--s3]

Starts `gunicorn studio.wsgi` (one worker process, as in the Procfile) on a throw-away data
directory, signs in over HTTP, streams each file as a multipart upload of the clip form and
samples the web process's resident memory (VmRSS) every 20 ms. The web process must not grow
with file size: the target is less than 64 MB of growth for any size. With --s3 the files go
to a bucket on moto's S3 server (STUDIO_STORAGE=s3), sent in multipart parts from the upload's
temporary file: the same target holds.

"web CPU s" is the CPU time the web worker spent on the upload, which other load on the machine
does not inflate as it does the wall clock.

Anchors: growth under 64 MB at any size (the target above); read in Django's default 64 KiB
chunks, the worker took in ~270 MB per CPU second (issue 20: 1 MiB chunks, 400-570).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BLOCK = os.urandom(1024 * 1024)
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"  # passes the quick sniff


def rss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


def cpu_seconds(pids: list[int]) -> float:
    """CPU time the processes have used (user + system): a measure that other load on the
    machine does not inflate, unlike the wall clock."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += tree(int(child))
    return pids


class Sampler(threading.Thread):
    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master, self.peak, self.running = master, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, max(rss_kb(p) for p in tree(self.master)[1:]))
            time.sleep(0.02)


def body(boundary: str, csrf: str, size: int):
    """The multipart body, generated on the fly: the client does not hold the file either."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; "
        f'name="upload_key"\r\n\r\n{uuid.uuid4()}\r\n--{boundary}\r\n'
        'Content-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    yield MP4_HEAD
    sent = len(MP4_HEAD)
    while sent < size:
        chunk = BLOCK[: min(len(BLOCK), size - sent)]
        sent += len(chunk)
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


class Body:
    """An iterable with a length, so requests sends Content-Length instead of chunks."""

    def __init__(self, boundary: str, csrf: str, size: int) -> None:
        self.args = (boundary, csrf, size)
        head = next(body(boundary, csrf, 0))
        self.length = len(head) + size + len(f"\r\n--{boundary}--\r\n")

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        return body(*self.args)


def setup(env: dict[str, str]) -> str:
    for command in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=env, check=True)
    script = (
        "from accounts.services import account_create;"
        "from studio.projects.services import project_create;"
        "u = account_create(email='bench@example.com', password='bench-password-123', name='B');"
        "p = project_create(team=u.current_team, author=u, name='Bench'); print(p.code)"
    )
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="256,1024", help="file sizes in MB")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--s3", action="store_true", help="store in a bucket on moto's server")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="cutroom-bench-") as data, ExitStack() as stack:
        env = dict(
            os.environ,
            STUDIO_DATA_DIR=data,
            STUDIO_MAX_UPLOAD_MB=str(max(sizes) + 16),
            STUDIO_LOG_LEVEL="WARNING",
        )
        if args.s3:
            sys.path.insert(0, str(ROOT))
            from tests.s3 import moto_server, new_bucket

            endpoint = stack.enter_context(moto_server(Path(data) / "moto.log"))
            env.update(new_bucket(endpoint).env())
            print(f"storage: bucket on moto's S3 server at {endpoint}")
        code = setup(env)
        base = f"http://127.0.0.1:{args.port}"
        server = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "studio.wsgi",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "600",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            run(base, code, server.pid, sizes)
        finally:
            server.terminate()
            server.wait(timeout=20)


def run(base: str, code: str, master: int, sizes: list[int]) -> None:
    session = requests.Session()
    for _ in range(100):
        try:
            session.get(f"{base}/accounts/login/", timeout=10).raise_for_status()
            break
        except (requests.ConnectionError, requests.Timeout):  # still starting (or a busy host)
            time.sleep(0.1)
    token = session.cookies["csrftoken"]
    session.post(
        f"{base}/accounts/login/",
        data={
            "username": "bench@example.com",
            "password": "bench-password-123",
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": f"{base}/accounts/login/"},
    ).raise_for_status()
    session.get(f"{base}/p/{code}/").raise_for_status()  # warm the worker up
    # One small upload first, so that code loaded once (the storage's client) is not counted as
    # growth with file size.
    warm = uuid.uuid4().hex
    session.post(
        f"{base}/p/{code}/clips/",
        data=Body(warm, session.cookies["csrftoken"], 1024 * 1024),
        headers={
            "Content-Type": f"multipart/form-data; boundary={warm}",
            "Accept": "application/json",
            "X-CSRFToken": session.cookies["csrftoken"],
            "Referer": f"{base}/p/{code}/",
        },
    ).raise_for_status()
    print(
        f"{'size':>8} {'seconds':>8} {'MB/s':>8} {'web CPU s':>10} {'MB/CPU s':>9} "
        f"{'RSS before':>11} {'RSS peak':>9} {'growth':>7}"
    )
    for size_mb in sizes:
        size = size_mb * 1024 * 1024
        token = session.cookies["csrftoken"]
        boundary = uuid.uuid4().hex
        before = max(rss_kb(p) for p in tree(master)[1:])
        sampler = Sampler(master)
        sampler.start()
        workers = tree(master)[1:]
        cpu = cpu_seconds(workers)
        started = time.perf_counter()
        response = session.post(
            f"{base}/p/{code}/clips/",
            data=Body(boundary, token, size),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Accept": "application/json",
                "X-CSRFToken": token,
                "Referer": f"{base}/p/{code}/",
            },
        )
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(workers) - cpu
        sampler.running = False
        sampler.join()
        if response.status_code != 201:
            raise SystemExit(f"upload failed: {response.status_code} {response.text[:300]}")
        growth = (sampler.peak - before) / 1024
        print(
            f"{size_mb:>6}MB {elapsed:>8.1f} {size_mb / elapsed:>8.0f} {cpu:>10.2f} "
            f"{size_mb / max(cpu, 0.01):>9.0f} {before / 1024:>9.0f}MB "
            f"{sampler.peak / 1024:>7.0f}MB {growth:>5.0f}MB"
        )
        if growth >= 64:
            raise SystemExit(f"memory grew by {growth:.0f} MB during a {size_mb} MB upload")
    print("anchor: growth under 64 MB at any size; 64 KiB chunks took ~270 MB per web CPU s")


if __name__ == "__main__":
    main()
