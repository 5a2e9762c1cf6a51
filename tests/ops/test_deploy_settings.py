"""Production settings: `manage.py check --deploy` is clean, a placeholder SECRET_KEY stops
start-up with a clear message, and the cookies are what docs/operations.md says."""

from __future__ import annotations

import logging
import re
import secrets
import subprocess
import sys

import pytest
from django.core import mail
from django.urls import reverse

from tests.cluster import ROOT, production_env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_in_production_settings(tmp_path):
    done = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNINGS" not in output and "ERRORS" not in output, output
    assert "System check identified no issues" in output, output


@pytest.mark.slow
@pytest.mark.parametrize(
    "key",
    [
        "changeme",
        "secret",
        "django-insecure-" + secrets.token_urlsafe(50),
        "a" * 60,  # long, but four different characters at most
        "please-changeme-" + secrets.token_urlsafe(40),  # long, but still the placeholder
        secrets.token_urlsafe(20),  # random, but too short
    ],
    ids=["changeme", "secret", "django-insecure", "few-characters", "placeholder", "too-short"],
)
def test_a_weak_secret_key_stops_start_up_outside_debug(tmp_path, key):
    done = manage(production_env(tmp_path, SECRET_KEY=key), "check")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "SECRET_KEY is not safe for production" in last, done.stderr
    assert "secrets.token_urlsafe(50)" in last
    assert len(key) < 12 or key not in last  # a real key is never echoed into a log


@pytest.mark.slow
def test_debug_allows_a_placeholder_key_and_no_key_means_a_generated_one(tmp_path):
    debug = manage(production_env(tmp_path, SECRET_KEY="changeme", STUDIO_DEBUG="true"), "check")
    assert debug.returncode == 0, debug.stderr
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    done = manage(env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len((tmp_path / "data" / "secret_key").read_text().strip()) >= 50


def test_without_smtp_and_debug_mail_is_logged_as_unsent_never_printed(caplog, capsys):
    from accounts.mail import NoMailBackend

    message = mail.EmailMessage(
        "Password reset on Cutroom",
        "https://studio.example.com/accounts/password/reset/MQ/secret-token/",
        to=["alice@example.com"],
    )
    with caplog.at_level(logging.WARNING, logger="accounts.mail"):
        sent = NoMailBackend().send_messages([message])
    assert sent == 0
    assert "not sent: no SMTP server is configured (set STUDIO_EMAIL_HOST)" in caplog.text
    assert "secret-token" not in caplog.text + capsys.readouterr().out


@pytest.mark.django_db
def test_csrf_cookie_is_http_only_as_the_docs_say(client):
    response = client.get(reverse("login"))
    cookie = response.cookies["csrftoken"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    operations = (ROOT / "docs" / "operations.md").read_text()
    assert "Sessions and CSRF cookies are `HttpOnly`/`SameSite=Lax`" in operations


def test_no_script_reads_the_csrf_cookie():
    """Scripts send the token from the form's hidden field, so the cookie can stay HttpOnly."""
    scripts = sorted((ROOT / "static" / "js").glob("*.js"))
    assert scripts
    readers = [s.name for s in scripts if re.search(r"document\.cookie|csrftoken", s.read_text())]
    assert readers == []
    # One module talks to the server (net.js); the others use it, and keep no copy of their own.
    assert "csrfmiddlewaretoken" in (ROOT / "static" / "js" / "net.js").read_text()
    copies = [s.name for s in scripts if s.name != "net.js" and "CSRF" in s.read_text().upper()]
    assert copies == []
