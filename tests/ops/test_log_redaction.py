"""No secret token reaches a log: gunicorn's access and error logs, Django's request warnings,
and mail that cannot be sent."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from gunicorn.config import Config

from accounts.services import invitation_create
from studio.core.logs import REDACTED, GunicornLogger, redact
from studio.ops import supervision
from studio.review import shares
from tests.cluster import ROOT, cluster_env, wait_for


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except urllib.error.URLError:
        return 0  # not listening yet


@pytest.fixture
def secrets_in_urls(transactional_db, alice, team, owner_membership, bob, make_take):
    """One real token of every kind, and the paths that carry them."""
    take = make_take()
    _, share = shares.share_create(
        take=take, author=bob, days=1, allow_download=False, show_prompt=False
    )
    _, invite = invitation_create(team=team, role="viewer", created_by=alice)
    uid = urlsafe_base64_encode(force_bytes(alice.pk))
    reset = default_token_generator.make_token(alice)
    provider = "eyJjbGlwIjoxfQ:1tXyZa:Zm9vYmFyYmF6cXV4cXV1eA"
    paths = [
        f"/s/{share}/",
        f"/s/{share}/media/result",
        f"/invite/{invite}/",
        f"/accounts/signup/?next=%2Finvite%2F{invite}%2F",
        f"/accounts/password/reset/{uid}/{reset}/",
        f"/provider-media/{provider}",
        f"/s/{'unknown' * 6}/",  # a 404 too: Django logs "Not Found: <path>"
    ]
    return paths, [share, invite, reset, provider, "unknown" * 6]


@pytest.mark.slow
def test_gunicorn_as_the_procfile_runs_it_logs_no_token(secrets_in_urls, tmp_path):
    paths, tokens = secrets_in_urls
    port = _free_port()
    command = supervision.procfile_entries((ROOT / "Procfile").read_text())["web"]
    log = tmp_path / "web.log"
    # The test database and secret key; a data folder of its own for the collected static files.
    env = cluster_env(
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        STUDIO_DATA_DIR=str(tmp_path / "data"),
        SECRET_KEY=settings.SECRET_KEY,
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S602 (the Procfile's own command line)
            f"exec {command}",
            shell=True,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _get(f"{base}/healthz") != 0, 120, "gunicorn to answer")
        statuses = {}
        for path in paths:
            request = urllib.request.Request(  # noqa: S310 (loopback)
                base + path, headers={"Referer": base + paths[0]}
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    statuses[path] = response.status
            except urllib.error.HTTPError as error:
                statuses[path] = error.code
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    text = log.read_text(errors="replace")
    assert statuses[paths[0]] == 200 and statuses[paths[-1]] == 404, (statuses, text)
    assert text.count('"GET /s/[redacted]/ HTTP/1.1" 200') == 1, text
    assert f"Not Found: /s/{REDACTED}/" in text, text  # Django's warning, redacted
    assert "GET /invite/[redacted]/ HTTP/1.1" in text
    assert f"/accounts/password/reset/{REDACTED}/{REDACTED}/" in text
    assert f"/provider-media/{REDACTED}" in text
    for token in tokens:
        assert token not in text, f"{token} in:\n{text}"


def test_gunicorn_error_log_is_redacted(tmp_path):
    """gunicorn logs "Error handling request <uri>" when a worker fails a request."""
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    config.set("accesslog", str(tmp_path / "access.log"))
    logger = GunicornLogger(config)
    logger.exception("Error handling request %s", "/invite/SECRETTOKEN123/")
    logger.access_log.info("%s", '"GET /s/SECRETTOKEN456/ HTTP/1.1" 200 "https://x/s/SECRET789/"')
    for handler in [*logger.error_log.handlers, *logger.access_log.handlers]:
        handler.flush()
    text = (tmp_path / "error.log").read_text() + (tmp_path / "access.log").read_text()
    assert "/invite/[redacted]/" in text and "/s/[redacted]/" in text
    assert "SECRET" not in text


@pytest.mark.django_db
def test_django_request_warnings_are_redacted(client, logs):
    """Through the handler studio/settings.py gives the root logger."""
    assert client.get("/invite/MYSECRETINVITE/").status_code == 404
    assert client.get("/s/MYSECRETSHARE/media/result").status_code == 404
    text = logs.text
    assert "Not Found: /s/[redacted]/media/result" in text, text
    assert "MYSECRET" not in text


def test_redact_keeps_everything_but_the_token():
    assert redact("GET /accounts/password/reset/sent/ HTTP/1.1") == (
        "GET /accounts/password/reset/sent/ HTTP/1.1"
    )
    assert redact("/accounts/password/reset/MQ/set-password/") == (
        "/accounts/password/reset/[redacted]/set-password/"
    )
    assert redact("GET /static/s/app.css HTTP/1.1") == "GET /static/s/app.css HTTP/1.1"
    assert redact("/p/abc/ /k/def/ /t/ghi/") == "/p/abc/ /k/def/ /t/ghi/"


# --- Mail that cannot be sent is not printed. ---


@pytest.fixture
def no_smtp(settings):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}


@pytest.mark.django_db
def test_without_smtp_the_reset_page_says_no_mail_can_be_sent(client, alice, no_smtp, caplog):
    from django.core import mail

    page = client.get(reverse("password_reset")).content.decode()
    assert "cannot send e-mail" in page and "changepassword" in page
    assert "<form" not in page.split("<main", 1)[1]  # no form that would pretend
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 503
    assert "cannot send e-mail" in response.content.decode()
    assert not mail.outbox
    assert not re.search(r"/reset/[^/\s]+/[^/\s]+/", caplog.text)  # no link, anywhere


@pytest.mark.django_db
def test_the_no_mail_backend_logs_one_line_without_recipient_or_link(no_smtp, caplog):
    from django.core.mail import send_mail

    with caplog.at_level(logging.WARNING, logger="accounts.mail"):
        sent = send_mail(
            "Reset your password",
            "https://x/accounts/password/reset/MQ/tok-123/",
            None,
            ["alice@example.com"],
        )
    assert sent == 0
    assert "not sent: no SMTP server is configured" in caplog.text
    assert "alice@example.com" not in caplog.text and "tok-123" not in caplog.text


def test_mail_is_printed_to_the_console_only_in_debug(tmp_path):
    """Settings as a fresh install reads them: no SMTP host, debug off, then on."""
    code = "from django.conf import settings;print(settings.MAILERS['default']['BACKEND'])"

    def backend(**extra: str) -> str:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("STUDIO_", "DJANGO_"))
        }
        env.update(STUDIO_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="studio.settings", **extra)
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    assert backend() == "accounts.mail.NoMailBackend"
    assert backend(STUDIO_DEBUG="true") == "django.core.mail.backends.console.EmailBackend"
    assert backend(STUDIO_EMAIL_HOST="smtp.example.com") == (
        "django.core.mail.backends.smtp.EmailBackend"
    )
