"""A cut's render as a first-class result: its page (the compare with the source, its facts,
its download), for the team's owner, editor and viewer; outsiders get 404."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from studio.cuts import renders
from studio.cuts.models import CutRender, RenderState
from studio.governance import budgets, usage
from studio.media.cut import CutReport
from studio.models import Activity, ReviewStatus, Take
from studio.review.comments import render_review_set
from studio.takes import gallery
from tests.cuts.rows import render_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def made(project, bob, samples) -> CutRender:
    return render_row(project, bob, samples)


def page_url(render: CutRender) -> str:
    return reverse("render_detail", args=[render.cut.code, render.number])


@pytest.mark.parametrize("who", ["as_alice", "as_bob", "as_carol"])
def test_members_see_the_render_beside_the_source(made, who, request):
    client = request.getfixturevalue(who)
    response = client.get(page_url(made))
    assert response.status_code == 200
    page = response.content.decode()
    clip = made.cut.clip
    # The compare: the source clip in full, then the render, counted in the source's frames.
    assert "data-compare" in page and 'data-fps="25"' in page
    assert reverse("media_file", args=["clip", clip.code, clip.playable]) in page
    assert reverse("media_file", args=["render", made.code, "file"]) in page
    assert 'data-duration="9.000"' in page
    # Its facts: windows with links to their takes, the joins with the flagged one, the file.
    for planned in made.plan["windows"]:
        assert reverse("take_detail", args=[planned["take"]]) in page
    assert "0:03.00 (out of window 1): step 41.5 <strong>look at this join</strong>" in page
    assert "225 frames" in page and "Download interview-clay-version-v1.mp4" in page
    assert reverse("cut_detail", args=[made.cut.code]) in page


def test_the_download_is_named_after_the_clip_the_cut_and_the_version(made, as_carol):
    url = reverse("media_file", args=["render", made.code, "file"])
    response = as_carol.get(url + "?download=1")
    assert response.status_code == 200
    assert 'filename="interview-clay-version-v1.mp4"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == made.file.open("rb").read()


def test_an_outsider_gets_404_and_so_does_a_render_that_is_not_there(made, as_dave, as_bob):
    assert as_dave.get(page_url(made)).status_code == 404
    missing = reverse("render_detail", args=[made.cut.code, 7])
    assert as_bob.get(missing).status_code == 404


def test_the_cut_page_links_each_ready_render_to_its_page(made, as_carol, bob):
    CutRender.objects.create(cut=made.cut, number=2, state=RenderState.RENDERING, created_by=bob)
    page = as_carol.get(reverse("cut_detail", args=[made.cut.code])).content.decode()
    assert f'href="{page_url(made)}"' in page
    assert reverse("render_detail", args=[made.cut.code, 2]) not in page  # not ready yet


def test_a_failed_render_page_says_why_and_has_no_player(made, as_bob):
    made.state, made.reason = RenderState.FAILED, "The media folder is full; press Render again."
    made.save(update_fields=["state", "reason"])
    page = as_bob.get(page_url(made)).content.decode()
    assert "The media folder is full" in page and "data-compare" not in page


# -- review status ------------------------------------------------------------------------------
def review(client, render: CutRender, status: str, **extra):
    url = reverse("render_review", args=[render.cut.code, render.number])
    return client.post(url, {"status": status}, **extra)


@pytest.mark.parametrize(("who", "name"), [("as_alice", "Alice"), ("as_bob", "Bob")])
def test_an_editor_or_owner_approves_a_render_as_a_take(made, who, name, request):
    client = request.getfixturevalue(who)
    response = review(client, made, ReviewStatus.APPROVED)
    assert response.status_code == 302 and response.url == page_url(made)
    made.refresh_from_db()
    assert made.review_status == ReviewStatus.APPROVED and made.review_changed_by.name == name
    # Shown on the render's page (the same control as a take's) and on the cut's page.
    page = client.get(page_url(made)).content.decode()
    assert f'data-review-take="{made.code}" data-review="approved"' in page
    assert 'aria-pressed="true">Approved</button>' in page
    cut_page = client.get(reverse("cut_detail", args=[made.cut.code])).content.decode()
    assert f'review-approved" data-review-badge="{made.code}">Approved' in cut_page
    # The team history: who approved which cut.
    entry = Activity.objects.get(verb="approved")
    assert entry.summary == "approved Clay version v1 — cut of interview.mp4"
    assert entry.render == made and entry.actor.name == name
    history = client.get(reverse("team_activity", args=[made.cut.project.team.code]))
    assert f'href="{page_url(made)}">cut v1</a>' in history.content.decode()


def test_the_page_script_gets_the_new_status_as_json(made, as_bob):
    response = review(as_bob, made, ReviewStatus.CHANGES_REQUESTED, HTTP_ACCEPT="application/json")
    data = response.json()
    assert data["ok"] and data["code"] == made.code and data["label"] == "Changes requested"
    assert data["by"] == "Bob" and data["who"].startswith("Set by Bob")
    bad = review(as_bob, made, "perfect", HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["error"] == "Choose a review status from the list."


def test_a_viewer_reads_the_status_but_cannot_set_it(made, as_carol, as_dave, bob):
    render_review_set(render=made, status=ReviewStatus.NEEDS_REVIEW, user=bob)
    assert review(as_carol, made, ReviewStatus.APPROVED).status_code == 403
    assert review(as_dave, made, ReviewStatus.APPROVED).status_code == 404
    url = reverse("render_review", args=[made.cut.code, made.number])
    assert as_carol.get(url).status_code == 405
    made.refresh_from_db()
    assert made.review_status == ReviewStatus.NEEDS_REVIEW
    page = as_carol.get(page_url(made)).content.decode()
    assert "Needs review" in page and "Set the review status" not in page


# -- the gallery and the team history -----------------------------------------------------------
@pytest.fixture
def rendering(made, bob, samples, monkeypatch):
    """A second render of the same cut, queued, and a stand-in for the render itself that
    writes a real video (the render is tests/cuts/test_cut_renders.py's)."""

    def stand_in(source, splices, out, *, crossfade_frames, shot_cuts, progress):
        shutil.copyfile(samples["cut-25.mp4"], out)
        return CutReport(
            frames=225,
            duration=9.0,
            width=480,
            height=270,
            fps=25.0,
            has_audio=True,
            size=out.stat().st_size,
            stretch=(1.0, 1.0),
            seams=(),
        )

    monkeypatch.setattr(renders, "cut_render", stand_in)
    monkeypatch.setattr(renders, "_enqueue", lambda pk: None)
    return renders.cut_render_request(cut=made.cut, author=bob)


def test_a_finished_render_is_in_the_team_history_once(rendering, as_carol):
    renders.cut_render_run(rendering.pk)
    renders.cut_render_run(rendering.pk)  # delivered twice: one line
    rendering.refresh_from_db()
    assert rendering.state == RenderState.READY
    (entry,) = Activity.objects.filter(verb="rendered")
    assert entry.summary == "rendered Clay version v2 — cut of interview.mp4"
    assert entry.render == rendering and entry.actor.name == "Bob"
    team = rendering.cut.project.team
    page = as_carol.get(reverse("team_activity", args=[team.code])).content.decode()
    assert 'data-verb="rendered"' in page and "rendered Clay version v2" in page
    assert f'href="{page_url(rendering)}">cut v2</a>' in page


def test_rendering_changes_no_spend(rendering, made):
    """Rendering is free: the month's usage and every budget's count stay as they were (the
    windows' takes were counted when they were made)."""
    team = made.cut.project.team
    month = budgets.month_start()
    before = usage.team_usage(team=team, month=month)
    held_before = budgets.held(Take.objects.filter(project__team=team))
    takes_before = list(Take.objects.values_list("pk", "reserved_usd", "charged_usd"))
    renders.cut_render_run(rendering.pk)
    rendering.refresh_from_db()
    assert rendering.state == RenderState.READY
    after = usage.team_usage(team=team, month=month)
    assert (after.total.takes, after.total.counted) == (before.total.takes, before.total.counted)
    assert after.total.takes == 2  # the two windows' takes, nothing for either render
    assert budgets.held(Take.objects.filter(project__team=team)) == held_before
    assert list(Take.objects.values_list("pk", "reserved_usd", "charged_usd")) == takes_before


def test_a_ready_render_is_its_own_card_in_the_gallery(made, as_carol, bob):
    team = made.cut.project.team
    url = reverse("team_gallery", args=[team.code])
    page = as_carol.get(url).content.decode()
    assert f'id="render-{made.code}"' in page
    assert "Clay version v1 — cut of interview.mp4" in page and f'href="{page_url(made)}"' in page
    assert len(as_carol.get(url).context["takes"]) == 3  # two takes and the render
    # Filters: by review status and name it stays; a take's own filters leave it out.
    render_review_set(render=made, status=ReviewStatus.APPROVED, user=bob)
    approved = as_carol.get(url, {"review": "approved"}).context["takes"]
    assert approved == [made]
    assert as_carol.get(url, {"q": "clay version"}).context["takes"] == [made]
    assert made not in as_carol.get(url, {"resolution": "720P"}).context["takes"]
    assert made not in as_carol.get(url, {"starred": "1"}).context["takes"]
    # Not yet ready: not there.
    CutRender.objects.create(cut=made.cut, number=2, state=RenderState.QUEUED, created_by=bob)
    assert len(as_carol.get(url).context["takes"]) == 3


@pytest.mark.parametrize("size", [1, 2, 3])
def test_the_gallery_pages_through_takes_and_renders_alike(made, bob, as_carol, monkeypatch, size):
    """Keyset pages over both kinds: every entry once, newest first, renders among takes,
    whichever entry a page ends on (a render and a take at the same moment included)."""
    monkeypatch.setattr(gallery, "PAGE_SIZE", size)
    start = timezone.now() - timedelta(hours=1)
    for minutes, take in enumerate(Take.objects.order_by("pk")):
        Take.objects.filter(pk=take.pk).update(created_at=start + timedelta(minutes=minutes * 2))
    CutRender.objects.filter(pk=made.pk).update(created_at=start + timedelta(minutes=1))
    second = CutRender.objects.create(
        cut=made.cut, number=2, state=RenderState.READY, created_by=bob, created_at=start
    )
    url = reverse("team_gallery", args=[made.cut.project.team.code])
    seen, cursor = [], ""
    for _ in range(5):
        response = as_carol.get(url, {"before": cursor} if cursor else {})
        seen += response.context["takes"]
        cursor = response.context["next_cursor"]
        if not cursor:
            break
    takes = list(Take.objects.order_by("pk"))
    # At the same moment, a render comes before a take.
    assert seen == [takes[1], made, second, takes[0]]


def test_the_project_page_lists_its_ready_renders(made, as_carol, bob):
    CutRender.objects.create(cut=made.cut, number=2, state=RenderState.FAILED, created_by=bob)
    page = as_carol.get(reverse("project_detail", args=[made.cut.project.code])).content.decode()
    assert "Cuts rendered" in page and f'href="{page_url(made)}"' in page
    assert "Clay version v1 — cut of interview.mp4" in page
    assert reverse("render_detail", args=[made.cut.code, 2]) not in page
