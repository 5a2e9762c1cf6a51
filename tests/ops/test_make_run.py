"""`make run` from a fresh data folder, as a newcomer starts it: what it prints, and when."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from studio.management.commands.prepare import database_ready
from studio.ops import supervision
from tests.cluster import ROOT, wait_for
from tests.ops.test_supervision import free_port

ADDRESS = re.compile(r"^  Cutroom is running at (http://\S+)  \(Ctrl-C stops everything\)$")


def newcomer_env(tmp_path: Path, port: int) -> dict[str, str]:
    """This machine's environment without Cutroom's variables: the defaults, a new data folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STUDIO_", "MODELLIX_", "DJANGO_"))
        and key not in ("SECRET_KEY", "DATABASE_URL", "HOST")
    }
    return env | {
        "STUDIO_DATA_DIR": str(tmp_path / "data"),
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "STUDIO_WORKERS": "1",
        "PYTHONUNBUFFERED": "1",
    }


def healthz(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except OSError:
        return None


@pytest.mark.slow
def test_make_run_says_where_once_it_answers_in_a_few_lines_without_errors(tmp_path):
    lines: list[tuple[float, str]] = []
    answered_when_shown: list[bool] = []
    started = time.monotonic()
    # -o: the virtualenv is installed already; the test is about the start, not the install.
    process = subprocess.Popen(
        [
            shutil.which("make") or "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed-run",
            "run",
        ],
        cwd=ROOT,
        env=newcomer_env(tmp_path, free_port()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
            if found := ADDRESS.match(line.rstrip("\n")):
                # The address is printed once the server answers: it answers at once.
                answered_when_shown.append(healthz(found[1]) is not None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    text = lambda: "\n".join(line for _, line in lines)  # noqa: E731
    try:
        wait_for(lambda: answered_when_shown, 180, f"the address line:\n{text()}")
        url = next(found[1] for _, line in lines if (found := ADDRESS.match(line)))
        # Asked before the worker and the scheduler have reported (as the announcer did, and as
        # a person or a monitor may), /healthz says "starting": healthy, and no error logged.
        report = healthz(url)
        assert report is not None and report["ok"], report
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        reader.join(timeout=10)
    shown_at = next(at for at, line in lines if ADDRESS.match(line))
    print(f"make run: the address after {shown_at:.1f} s")
    assert answered_when_shown == [True]
    output = text()
    assert "ERROR" not in output, output
    assert "Applying " not in output
    summary = [line for _, line in lines if "Database ready" in line]
    assert len(summary) == 1 and re.fullmatch(
        r"  Database ready \(\d{2,} migrations applied\)", summary[0]
    ), output
    engine = next(line for _, line in lines if "Edit engine:" in line)
    assert "MODELLIX_API_KEY" in engine and "STUDIO_PROVIDER=modellix" in engine


def test_the_summary_and_the_address_words():
    assert database_ready(0) == "Database ready (up to date)"
    assert database_ready(1) == "Database ready (1 migration applied)"
    assert supervision.web_address("0.0.0.0", "8000") == (  # noqa: S104
        "http://0.0.0.0:8000",
        "http://127.0.0.1:8000/healthz",
    )
