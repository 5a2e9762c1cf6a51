"""`make run` supervision: a worker that dies or is restarted never takes the web server down."""

from __future__ import annotations

import io
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from studio.management.commands.worker import STOP_GRACE_SECONDS
from studio.models import WorkerHeartbeat
from studio.ops import supervision
from tests.cluster import ROOT, cluster_env, wait_for
from tests.cluster import run_cluster as cluster_run


def test_procfile_entries_keep_order_and_skip_comments():
    text = "# processes\n\nweb: gunicorn app --bind ${HOST:-127.0.0.1}:${PORT:-8000}\nworker: w\n"
    assert supervision.procfile_entries(text) == {
        "web": "gunicorn app --bind ${HOST:-127.0.0.1}:${PORT:-8000}",
        "worker": "w",
    }
    for broken in ("web gunicorn", "web: a\nweb: b", "# nothing\n"):
        with pytest.raises(supervision.ProcfileError):
            supervision.procfile_entries(broken)


def test_config_is_what_supervisord_reads(tmp_path):
    """Every process restarts on exit, stops within a wait longer than the worker's grace."""
    entries = supervision.procfile_entries((ROOT / "Procfile").read_text())
    entries["odd"] = "printf '%s 100%%' done"  # supervisord's own %-expansion must not bite
    conf = tmp_path / "supervisord.conf"
    conf.write_text(
        supervision.config_text(
            entries=entries, directory=tmp_path, base_dir=ROOT, python="/p y", password="pw"
        )
    )
    options = ServerOptions()
    options.realize(args=["-c", str(conf)])
    programs = {g.name: g.process_configs[0] for g in options.process_group_configs}
    assert set(programs) == {"web", "worker", "scheduler", "odd", "gave-up-notice"}
    for name in ("web", "worker", "scheduler", "odd"):
        program = programs[name]
        assert program.command == "/bin/sh -c " + shlex.quote("exec " + entries[name])
        assert program.autorestart is RestartUnconditionally and program.startretries >= 3
        assert program.stopsignal == signal.SIGTERM and program.killasgroup
        assert program.stopwaitsecs > STOP_GRACE_SECONDS
        assert program.stdout_logfile == "/dev/stdout" and program.redirect_stderr
    assert options.server_configs[0]["file"] == str(tmp_path / "supervisord.sock")
    assert options.server_configs[0]["chmod"] == 0o700
    assert options.umask == 0o077  # web and worker create private files


def test_gave_up_notice_says_what_to_do(capsys):
    payload = "processname:worker groupname:worker from_state:BACKOFF"
    header = (
        "ver:3.0 server:supervisor serial:1 pool:gave-up-notice poolserial:1 "
        f"eventname:PROCESS_STATE_FATAL len:{len(payload)}\n"
    )
    replies = io.StringIO()
    supervision.listen("var/supervisord.conf", stdin=io.StringIO(header + payload), stdout=replies)
    assert replies.getvalue() == "READY\nRESULT 2\nOKREADY\n"
    message = capsys.readouterr().err
    assert "'worker' kept exiting" in message and "other processes keep running" in message
    assert "supervisorctl -c var/supervisord.conf start worker" in message


def test_already_running_sees_a_listening_socket(tmp_path):
    assert not supervision.already_running(tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(supervision.socket_path(tmp_path)))
        server.listen()
        assert supervision.already_running(tmp_path)


# -- the real thing ---------------------------------------------------------------------------
def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                tree.setdefault(parent, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> set[int]:
    """pid and every process below it, found by scanning /proc."""
    tree, found, todo = children_of(), {pid}, [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        with suppress(OSError):
            if (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                living.add(pid)
    return living


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Supervised:
    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.conf = data_dir / "supervisord.conf"
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def healthz(self) -> int | None:
        """The HTTP status, or None when the web server did not answer."""
        try:
            # Slow is not silent: on a busy machine an answer may take seconds.
            with urllib.request.urlopen(self.url, timeout=30) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def pid(self, name: str) -> int:
        command = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(self.conf)]
        answer = subprocess.run([*command, "pid", name], capture_output=True, text=True)
        return int(answer.stdout.strip()) if answer.stdout.strip().isdigit() else 0


@contextmanager
def supervised(tmp_path: Path) -> Iterator[Supervised]:
    port = free_port()
    env = cluster_env(
        STUDIO_DATA_DIR=str(tmp_path), PORT=str(port), STUDIO_WORKERS="1", WEB_CONCURRENCY="1"
    )
    run = Supervised(tmp_path, port, tmp_path / "supervise.log")
    # Appending: supervisord and the processes it writes for share this file.
    with run.log.open("ab") as out:
        run.process = subprocess.Popen(
            [sys.executable, "manage.py", "supervise"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield run
    finally:
        everything = process_tree(run.process.pid)
        with suppress(ProcessLookupError):
            run.process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            run.process.wait(timeout=20)
        for pid in alive(everything):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.process.wait(timeout=10)


class Watch(threading.Thread):
    """Asks /healthz again and again; remembers every time the web server did not answer."""

    def __init__(self, run: Supervised) -> None:
        super().__init__(daemon=True)
        self.run_ = run
        self.stop = threading.Event()
        self.answers = 0
        self.silences: list[float] = []

    def run(self) -> None:
        while not self.stop.wait(0.1):
            if self.run_.healthz() is None:
                self.silences.append(time.monotonic())
            else:
                self.answers += 1


def heartbeat_pids(since: datetime | None = None) -> set[int]:
    rows = WorkerHeartbeat.objects.filter(seen_at__gt=since) if since else WorkerHeartbeat.objects
    return {int(name.rsplit(":", 1)[1]) for name in rows.values_list("worker", flat=True)}


def beats_from_new_worker(old: set[int], since: datetime) -> bool:
    return bool(heartbeat_pids(since) - old)


# Processes and signals: the database only keeps the heartbeats, as everywhere else.
@pytest.mark.once
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_dies_and_returns_while_web_keeps_answering(settings, tmp_path):
    settings.WORKER_STALE_AFTER = timedelta(seconds=4)  # passed on to the processes
    with supervised(tmp_path) as run:
        wait_for(lambda: run.healthz() == 200, 120, f"web and worker:\n{run.output()}")
        watch = Watch(run)
        watch.start()

        for how in (signal.SIGKILL, signal.SIGTERM):
            worker = run.pid("worker")
            old = process_tree(worker)  # the worker command and its whole cluster
            assert len(old) > 2, run.output()
            since = timezone.now()
            os.kill(worker, how)
            wait_for(lambda old=old: not alive(old), 120, f"old cluster to go ({how.name})")
            if how == signal.SIGTERM:  # a clean stop takes its heartbeats with it at once
                assert not heartbeat_pids() & old
            wait_for(
                lambda old=old, since=since: (
                    run.pid("worker") not in (0, *old)
                    and beats_from_new_worker(old, since)
                    and run.healthz() == 200
                ),
                120,
                f"the worker to come back after {how.name}:\n{run.output()}",
            )

        watch.stop.set()
        watch.join()
        assert watch.answers > 10 and watch.silences == [], run.output()

        everything = process_tree(run.process.pid)
        assert len(everything) >= 6
        run.process.send_signal(signal.SIGINT)
        run.process.wait(timeout=60)
        wait_for(lambda: not alive(everything), 120, "every process to stop")
        assert run.healthz() is None


# -- the worker command's cluster never outlives it ----------------------------------------------
def cluster_of(wrapper: int) -> set[int]:
    """Live processes of the cluster that `wrapper` (a `manage.py worker`) started, found by
    scanning /proc: forked processes keep the command line that names their wrapper."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if f"--cluster-of={wrapper}".encode() in argv:
                    found.add(int(entry.name))
    return alive(found)


def kill_wrapper(wrapper: int, cluster_main: int) -> None:
    os.kill(wrapper, signal.SIGKILL)


def kill_wrapper_group(wrapper: int, cluster_main: int) -> None:
    os.killpg(os.getpgid(wrapper), signal.SIGKILL)  # what a supervisor's group kill does


def kill_like_oom(wrapper: int, cluster_main: int) -> None:
    """The OOM killer of a memory cgroup: the wrapper and the cluster's main process die at once,
    with no chance to clean up; django-q2's sentinel and its workers are left orphaned."""
    os.kill(cluster_main, signal.SIGKILL)
    os.kill(wrapper, signal.SIGKILL)


@pytest.mark.once
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill", [kill_wrapper, kill_wrapper_group, kill_like_oom])
def test_no_cluster_process_survives_its_worker_command(settings, tmp_path, kill):
    settings.WORKER_STALE_AFTER = timedelta(seconds=4)
    with cluster_run(tmp_path, command="worker") as worker:
        wrapper = worker.process.pid
        wait_for(
            lambda: len(cluster_of(wrapper)) >= 4 and WorkerHeartbeat.objects.exists(),
            120,
            "the cluster to start its sentinel and workers",
            worker,
        )
        everything = process_tree(wrapper)
        (cluster_main,) = children_of()[wrapper]
        assert cluster_of(wrapper) <= everything
        try:
            kill(wrapper, cluster_main)
            worker.process.wait(timeout=60)
            wait_for(
                lambda: not alive(everything) and not cluster_of(wrapper),
                120,
                f"every cluster process to die after {kill.__name__}",
            )
        finally:
            for pid in alive(everything) | cluster_of(wrapper):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
