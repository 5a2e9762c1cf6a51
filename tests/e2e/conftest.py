"""Playwright drives Debian's Chromium (Playwright's own browser download does not work here)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from studio.library import clips
from studio.media.probe import probe
from studio.media.transcode import make_poster
from studio.models import Project, Take, TakeState
from studio.providers.local import render as engine
from studio.takes.parameters import EditParameters
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
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
# Installed from npm by `make test` (the Makefile's axe target); never vendored into the app.
AXE_SCRIPT = ROOT / "var" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
AXE_FAILING_IMPACTS = ("serious", "critical")

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
    # On a phone the button sits in the folded menu: there, but not visible until opened.
    expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()


def open_menu(page: Page) -> None:
    """Unfold the phone menu, if the page shows it folded."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible() and menu.get_attribute("aria-expanded") == "false":
        menu.click()


def sign_out(page: Page) -> None:
    open_menu(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def uploads_ready(page: Page) -> None:
    """Wait until the project page's upload script is attached (it is a deferred module)."""
    expect(page.locator("form[data-upload][data-ready]").first).to_be_attached()


# The compare's videos can all show a frame. An empty page is not ready: a check made before a
# click's navigation lands would otherwise pass on the page being left.
COMPARE_READY = """() => {
  const videos = [...document.querySelectorAll('[data-compare] video')];
  return videos.length > 0 && videos.every(v => v.readyState >= 2);
}"""


def wait_until(page: Page, predicate: str, timeout: float = 15.0) -> None:
    """Poll with page.evaluate: wait_for_function evaluates strings, which our CSP forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        page.wait_for_timeout(100)


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context for axe only: it bypasses CSP so that axe-core can be injected.

    The app's own Content-Security-Policy is untouched; every other test runs under it.
    """
    if not AXE_SCRIPT.exists():
        pytest.fail(f"axe-core is missing at {AXE_SCRIPT}: run `make axe` (part of `make test`)")
    context = browser.new_context(bypass_csp=True)
    yield context
    context.close()


AXE_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return {
    version: axe.version,
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    })),
  };
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; the serious and critical violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_SCRIPT.read_text())
    report = page.evaluate(AXE_RUN)
    assert report["version"].startswith("4."), report["version"]
    return [v for v in report["violations"] if v["impact"] in AXE_FAILING_IMPACTS]


def axe_report(violations: list[dict[str, Any]]) -> str:
    """One readable line per failing node: rule, impact, element and what to fix."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def check_axe(page: Page, name: str) -> None:
    """Fail with every serious or critical axe-core violation on the page."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {name} ({page.url}):\n{axe_report(violations)}"


def make_take(project: Any, clip: Any, author: Any, **fields: Any) -> Any:
    """A take row in any state, without a provider (fields override the defaults)."""

    defaults = {
        "prompt": "Turn the harbour into clay style",
        "seed": 7,
        "start_ms": 2000,
        "length_ms": 4000,
        "provider": "local",
        "resolution": "720P",
        "estimate_usd": "0.2822",
    }
    return Take.objects.create(project=project, clip=clip, created_by=author, **defaults | fields)


# What the local engine made of an input, by the input's sha256 and the parameters asked, for
# this test process (each xdist worker has its own). The engine is deterministic and rendering
# is most of a finished take's cost (seconds each on a loaded 2-core machine), so every window
# and prompt is rendered once per session and copied after that. The render itself is the
# subject of the engine's own tests (tests/providers/); here it is only a take's set-up.
_RENDERS: dict[tuple[str, EditParameters], tuple[Path, list[str]]] = {}


def _render(source: Path, out: Path, *, sha256: str, asked: EditParameters) -> list[str]:
    """Render source into out as the worker would (or copy the session's earlier render)."""
    key = (sha256, asked)
    if key in _RENDERS:
        kept, looks = _RENDERS[key]
        shutil.copyfile(kept, out)
        return list(looks)
    info = probe(source, max_seconds=60)
    rendered = engine.render(source, out, info=info, parameters=asked)
    kept = Path(tempfile.mkdtemp(prefix="cutroom-render-")) / out.name
    shutil.copyfile(out, kept)
    _RENDERS[key] = (kept, list(rendered.looks))
    return list(rendered.looks)


@pytest.fixture(scope="session", autouse=True)
def _forget_renders() -> Iterator[None]:
    yield
    for kept, _ in _RENDERS.values():
        shutil.rmtree(kept.parent, ignore_errors=True)
    _RENDERS.clear()


def finish_take(take: Any, folder: Path) -> Any:
    """Render the take with the local engine, as the worker would, and store its result."""
    from django.core.files import File
    from django.utils import timezone

    from studio.storage.files import local_copy

    item = clips.input_clip_prepare(
        clip=take.clip, start=take.start_ms / 1000, length=take.length_ms / 1000
    )
    out = folder / f"{take.code}.mp4"
    asked = EditParameters(prompt=take.prompt, resolution=take.resolution)
    with local_copy(item.file) as source:  # the file itself, or a copy from the bucket
        looks = _render(source, out, sha256=item.sha256, asked=asked)
    result = probe(out, max_seconds=60)
    poster = folder / f"{take.code}.jpg"
    make_poster(out, poster, result)
    take.input_clip = item
    take.engine_looks = looks
    take.state = TakeState.SUCCEEDED
    take.finished_at = timezone.now()
    take.result_width, take.result_height = result.width, result.height
    take.result_duration, take.result_size = result.duration, out.stat().st_size
    stored = f"takes/{take.project.code}/{take.code}"
    with out.open("rb") as video, poster.open("rb") as image:
        take.result.save(f"{stored}/result.mp4", File(video), save=False)
        take.result_poster.save(f"{stored}/poster.jpg", File(image), save=False)
    take.save()
    return take


@pytest.fixture
def finished_take(team, alice, bob, samples, tmp_path):
    """A take the local engine finished, with its result and poster stored."""
    project = Project.objects.create(team=team, name="Compare", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["long.mp4"], name="harbour.mp4")
    return finish_take(make_take(project, clip, bob, prompt="cool winter", seed=1), tmp_path)


REVIEW_FPS = 25  # samples["review.mp4"]: frame-exact review tests count on it


@pytest.fixture
def review_take(team, alice, bob, carol, samples, tmp_path):
    """A finished take of 2 s + 4 s of a 25 fps clip, for the review tests."""
    project = Project.objects.create(team=team, name="Review", created_by=alice)
    clip = upload_clip(client_for(bob), project, samples["review.mp4"], name="harbour.mp4")
    assert clip.fps == REVIEW_FPS
    return finish_take(make_take(project, clip, bob, prompt="Clay harbour"), tmp_path)
