"""A PostgreSQL server of a test's own, that the test may stop and start (an outage, a restart).

The suite's PostgreSQL pass shares one server between its pytest workers (scripts/with-postgres),
so a test that stops the database needs a server nobody else uses. This is the same server,
made the same way (Debian's initdb in a temporary folder, on 127.0.0.1 at a free port, run as
the `postgres` user when the tests run as root), and `database_on` points this process's
default connection at it for the test's duration; child processes started meanwhile
(tests/cluster.py database_env) follow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command
from django.db import connections

from tests.s3 import free_port


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("no PostgreSQL server found (make test installs Debian's postgresql)")
    return candidates[-1].parent


class PostgresServer:
    def __init__(self) -> None:
        # Under the system's temporary folder, as scripts/with-postgres does: the `postgres`
        # user cannot reach into pytest's folders, which are root's alone.
        self.folder = Path(tempfile.mkdtemp(prefix="cutroom-postgres."))
        self.data = self.folder / "data"
        self.bin = _bindir()
        self.port = free_port()

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603

    def create(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "cutroom")
        return self

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -k {self.folder} -p {self.port} -c fsync=off "
            "-c max_connections=100"
        )
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        """As an administrator's restart does: connections are cut, new ones refused."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(  # noqa: S603
            ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0)
            + [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def database_on(server: PostgresServer) -> Iterator[None]:
    """This process's default connection on `server`'s database, migrated; put back after."""
    connection = connections["default"]
    connection.close()
    saved = dict(connection.settings_dict)
    connection.settings_dict.update(
        HOST="127.0.0.1", PORT=str(server.port), NAME="cutroom", USER="postgres", PASSWORD=""
    )
    try:
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
