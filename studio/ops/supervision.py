"""Run the Procfile's processes under supervisord, for `make run`.

honcho (used before) ends every process when one exits, so a worker crash or restart took the web
server down with it. supervisord restarts a process that exits and leaves the others running:
a process that dies within START_SECONDS is retried after 1, 2, 3... seconds, and after
START_RETRIES such failures it is given up on with a message that says what to do. Ctrl-C or a
SIGTERM to supervisord stops every process (TERM, then KILL after STOP_WAIT_SECONDS, to the whole
process group of each).

The Procfile stays the one list of processes: `manage.py supervise` turns its entries into
`$STUDIO_DATA_DIR/supervisord.conf` on every start and then becomes supervisord in the foreground.
Each process's output goes to the terminal. supervisorctl talks to it over a unix socket that only
this user may open, e.g. `.venv/bin/supervisorctl -c var/supervisord.conf restart worker`.

This module also holds the small event listener that prints the "gave up" message; it runs as
`python -m studio.ops.supervision CONF` and imports nothing from Django.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import sys
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import TextIO

START_SECONDS = 5  # a process that lives this long has started; one that dies sooner is retried
START_RETRIES = 5  # then supervisord gives up on it (FATAL) and says so
STOP_WAIT_SECONDS = 10  # above the worker's own 4 s grace (studio/management/commands/worker.py)

_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>\S.*)$")


class ProcfileError(ValueError):
    pass


def procfile_entries(text: str) -> dict[str, str]:
    """The `name: command` lines of a Procfile, in order; blank lines and # comments skipped."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENTRY.match(line.strip())
        if match is None:
            raise ProcfileError(f"Procfile line {number} is not `name: command`: {line!r}")
        if match["name"] in entries:
            raise ProcfileError(f"Procfile line {number} repeats the process {match['name']!r}")
        entries[match["name"]] = match["command"]
    if not entries:
        raise ProcfileError("the Procfile lists no process")
    return entries


def _value(text: str | Path) -> str:
    """supervisord expands %(name)s in every value; a literal % must be doubled."""
    return str(text).replace("%", "%%")


def socket_path(directory: Path) -> Path:
    return directory / "supervisord.sock"


def config_text(
    *,
    entries: dict[str, str],
    directory: Path,
    base_dir: Path,
    python: str,
    password: str,
    as_root: bool = False,
) -> str:
    """supervisord's configuration for these Procfile entries, run from `base_dir`."""
    sock = socket_path(directory)
    conf = directory / "supervisord.conf"
    lines = [
        "; Written by `manage.py supervise` from the Procfile on every start: edit the Procfile.",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={_value(directory / 'supervisord.log')}",
        "logfile_maxbytes=1MB",
        "logfile_backups=1",
        f"pidfile={_value(directory / 'supervisord.pid')}",
        f"childlogdir={_value(directory)}",
        # supervisord sets this umask on itself (its default is 022) and its children inherit
        # it: what web and worker create in the data folder is this user's alone.
        "umask=077",
        # Running as root is the user's choice here, not a mistake to warn about on every start.
        *(["user=root"] if as_root else []),
        "",
        "[unix_http_server]",
        f"file={_value(sock)}",
        "chmod=0700",
        "username=cutroom",
        f"password={_value(password)}",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_value(sock)}",
        "username=cutroom",
        f"password={_value(password)}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
    ]
    for name, command in entries.items():
        lines += [
            f"[program:{name}]",
            # Through sh for the Procfile's ${VAR:-default}; exec so the signals reach the process.
            f"command=/bin/sh -c {_value(shlex.quote('exec ' + command))}",
            f"directory={_value(base_dir)}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={START_SECONDS}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={STOP_WAIT_SECONDS}",
            # TERM goes to the process alone (the worker passes it on to its cluster itself);
            # a KILL after the wait goes to its whole group, so no child is left behind.
            "stopasgroup=false",
            "killasgroup=true",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            'environment=PYTHONUNBUFFERED="1"',
            "",
        ]
    listener = f"{shlex.quote(python)} -m studio.ops.supervision {shlex.quote(str(conf))}"
    lines += [
        "[eventlistener:gave-up-notice]",
        f"command={_value(listener)}",
        f"directory={_value(base_dir)}",
        "events=PROCESS_STATE_FATAL",
        "autorestart=true",
        "stdout_logfile=NONE",
        "stderr_logfile=/dev/stderr",
        "stderr_logfile_maxbytes=0",
        "",
    ]
    return "\n".join(lines)


def already_running(directory: Path) -> bool:
    """Whether a supervisord answers on this data directory's socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(str(socket_path(directory)))
        except OSError:
            return False
    return True


def gave_up_message(process: str, conf: str) -> str:
    return (
        f"\ncutroom: '{process}' kept exiting right after it started, so it will not be started "
        f"again. Its output above says why. The other processes keep running. After fixing the "
        f"cause, start it with:\n  .venv/bin/supervisorctl -c {conf} start {process}\n\n"
    )


def web_address(host: str, port: str) -> tuple[str, str]:
    """Where people open Cutroom, and where to ask whether it answers (a server listening on
    every address answers on this machine's loopback)."""
    shown = f"http://{host}:{port}"
    asked = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host  # noqa: S104
    return shown, f"http://{asked}:{port}/healthz"


def announce_when_answering(
    shown: str, asked: str, out: TextIO, *, parent: int, timeout: float = 120.0
) -> bool:
    """Print where Cutroom runs once its web server answers `asked` (any HTTP status: it is
    up), so the address is never shown before it works. Gives up quietly when `parent`
    (supervisord) has gone, and says so when nothing answered within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.getppid() != parent:
            return False
        try:
            with urllib.request.urlopen(asked, timeout=30):  # noqa: S310 (our own address)
                pass
        except urllib.error.HTTPError:
            pass  # it answered
        except OSError:
            time.sleep(0.2)
            continue
        out.write(f"\n  Cutroom is running at {shown}  (Ctrl-C stops everything)\n\n")
        out.flush()
        return True
    out.write(
        f"\ncutroom: the web server has not answered at {shown} after {timeout:.0f} s; "
        "its output above says why.\n"
    )
    out.flush()
    return False


def listen(conf: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """supervisord event listener: explain a process that supervisord has given up on.

    The protocol: say READY, read one header line and a payload of its `len`, answer OK.
    """
    while True:
        stdout.write("READY\n")
        stdout.flush()
        line = stdin.readline()
        if not line:
            return  # supervisord has gone
        headers = dict(token.split(":", 1) for token in line.split())
        payload = dict(token.split(":", 1) for token in stdin.read(int(headers["len"])).split())
        if headers.get("eventname") == "PROCESS_STATE_FATAL":
            sys.stderr.write(gave_up_message(payload.get("processname", "?"), conf))
            sys.stderr.flush()
        stdout.write("RESULT 2\nOK")
        stdout.flush()


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        listen(sys.argv[1])
