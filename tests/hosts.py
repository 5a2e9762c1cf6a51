"""Hosts for the scale-out tests: processes that share nothing but the database and the bucket.

A `Host` is a data folder of its own (its own media folder, scratch, cache and secret-key file)
and, when the tests run as root, a host name of its own (a UTS namespace made with `unshare`), so
heartbeats, scheduler leases and django-q2 cluster names are told apart as on separate machines.
Its processes run the Procfile's own command lines, each in a process group of its own, so
`kill()` takes the whole host down at once with SIGKILL, as a power cut would.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import requests
from django.conf import settings

from studio.ops import supervision
from tests.cluster import ROOT, cluster_env, shared_signing, wait_for

PROCFILE = supervision.procfile_entries((ROOT / "Procfile").read_text())
# Files a host may keep in its data folder that hold no media: its cache entries (django-q2's
# statistics), the collected static files of a web host, the secret key when none is set.
NOT_MEDIA = ("cache", "static", "secret_key")


class Host:
    def __init__(self, name: str, folder: Path, *, cpus: str = "", **env: str) -> None:
        self.name = name
        # CPUs the host's processes may run on (`taskset -c`), so that hosts simulated on one
        # machine each have cores of their own, as separate machines do; "" is every CPU.
        self.cpus = cpus
        self.folder = folder
        self.data = folder / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.env = cluster_env(
            STUDIO_DATA_DIR=str(self.data),
            STUDIO_MEDIA_DIR=str(self.data / "media"),
            SECRET_KEY=settings.SECRET_KEY,
            **shared_signing(),
            **env,
        )
        self.env.pop("STUDIO_DATABASE_FILE", None)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def command(self, line: str) -> list[str]:
        pinned = ["taskset", "-c", self.cpus] if self.cpus and shutil.which("taskset") else []
        if os.geteuid() == 0 and shutil.which("unshare"):
            # A host name of its own: `hostname` inside a new UTS namespace, then the command.
            inner = f"hostname {shlex.quote(self.name)} && exec {line}"
            return [*pinned, "unshare", "--uts", "sh", "-c", inner]
        return [*pinned, "sh", "-c", f"exec {line}"]

    def start(self, process: str, *, line: str | None = None) -> None:
        log = self.folder / f"{process}.log"
        with log.open("ab") as out:
            self.processes[process] = subprocess.Popen(  # noqa: S603 (the Procfile's lines)
                self.command(line or PROCFILE[process]),
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, timeout=300
        )

    def output(self) -> str:
        return "\n".join(
            f"--- {self.name} {log.stem}\n{log.read_text(errors='replace')[-4000:]}"
            for log in sorted(self.folder.glob("*.log"))
        )

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes.values())

    def kill(self) -> None:
        """SIGKILL every process of the host at once: nothing gets to clean up."""
        for process in self.processes.values():
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes.values():
            process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, as a process manager stops a host; then whatever is left is killed."""
        for process in self.processes.values():
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        self.kill()

    def unfinished_tasks(self) -> set[str]:
        """Names of the tasks the host's workers started and did not finish, from their log
        (django-q2 logs "<process> processing <name> '<function>'", then "Processed" or
        "Failed '<function>' (<name>)")."""
        log = self.folder / "worker.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        started = set(re.findall(r" processing (\S+) '", text))
        ended = set(re.findall(r"(?:Processed|Failed) '[^']*' \((\S+)\)", text))
        return started - ended

    def media_files(self) -> list[str]:
        """Every file in the host's data folder that is not one of NOT_MEDIA's."""
        return sorted(
            str(path.relative_to(self.data))
            for path in self.data.rglob("*")
            if path.is_file() and path.relative_to(self.data).parts[0] not in NOT_MEDIA
        )


def wait_http(url: str, timeout: float = 120) -> None:
    def answers() -> bool:
        with suppress(requests.RequestException):
            requests.get(url, timeout=2)
            return True
        return False

    wait_for(answers, timeout, f"{url} to answer")


def signed_in(base: str, email: str, password: str) -> requests.Session:
    """A browser-like session signed in through the web host's own sign-in form."""
    session = requests.Session()
    session.get(f"{base}/accounts/login/", timeout=60)
    answer = session.post(
        f"{base}/accounts/login/",
        data={
            "username": email,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=60,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:2000]
    return session
