"""Playwright drives Debian's Chromium (Playwright's own browser download does not work here)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files import File
from playwright.sync_api import BrowserContext, Page, expect

from studio import services
from studio.media import engine
from studio.media.probe import probe
from studio.media.transcode import make_poster
from studio.models import Project, Take, TakeState
from tests.conftest import PASSWORD, client_for, upload_clip

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture
def console_errors(context: BrowserContext) -> Iterator[list[str]]:
    """Fail the test if a page logs an error, such as a Content-Security-Policy violation."""
    errors: list[str] = []
    context.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield errors
    assert errors == [], f"browser console errors: {errors}"


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of what the person sees, for review (var/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def uploads_ready(page: Page) -> None:
    """Wait until the project page's upload script is attached (it is a deferred module)."""
    expect(page.locator("form[data-upload][data-ready]").first).to_be_attached()


def wait_until(page: Page, predicate: str, timeout: float = 15.0) -> None:
    """Poll with page.evaluate: wait_for_function evaluates strings, which our CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        page.wait_for_timeout(100)


@pytest.fixture
def finished_take(team, alice, bob, samples, tmp_path):
    """A take the local engine finished, with its result and poster stored."""
    project = Project.objects.create(team=team, name="Compare", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["long.mp4"], name="harbour.mp4")
    item = services.input_clip_prepare(clip=clip, start=2, length=4)
    source = Path(item.file.path)
    out = tmp_path / "result.mp4"
    rendered = engine.render(
        source, out, info=probe(source, max_seconds=60), prompt="cool winter", resolution="720P"
    )
    take = Take.objects.create(
        project=project,
        clip=clip,
        created_by=bob,
        prompt="cool winter",
        seed=1,
        length_ms=4000,
        start_ms=2000,
        provider="local",
        state=TakeState.SUCCEEDED,
        input_clip=item,
        resolution="720P",
        engine_looks=rendered.looks,
    )
    make_poster(out, tmp_path / "poster.jpg", probe(out, max_seconds=60))
    with out.open("rb") as video, (tmp_path / "poster.jpg").open("rb") as poster:
        take.result.save(f"takes/{project.code}/{take.code}/result.mp4", File(video), save=False)
        take.result_poster.save(f"takes/{project.code}/{take.code}/poster.jpg", File(poster))
    return take
