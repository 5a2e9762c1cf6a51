"""A cut's render as a first-class result: its page (the compare with the source, its facts,
its download), for the team's owner, editor and viewer; outsiders get 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.cuts.models import CutRender, RenderState
from studio.models import Activity, ReviewStatus
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
    from studio.review.comments import render_review_set

    render_review_set(render=made, status=ReviewStatus.NEEDS_REVIEW, user=bob)
    assert review(as_carol, made, ReviewStatus.APPROVED).status_code == 403
    assert review(as_dave, made, ReviewStatus.APPROVED).status_code == 404
    url = reverse("render_review", args=[made.cut.code, made.number])
    assert as_carol.get(url).status_code == 405
    made.refresh_from_db()
    assert made.review_status == ReviewStatus.NEEDS_REVIEW
    page = as_carol.get(page_url(made)).content.decode()
    assert "Needs review" in page and "Set the review status" not in page
