"""Approvals and versions (docs/review.md "Approvals, version stacks and the variation grid"):
setting a take's review status, the gallery's review filter, the clip page's version stack
(versions, lineage, what changed), comparing two versions, and which takes a variation grid
plays."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from studio.core.errors import Refused
from studio.models import (
    Activity,
    Lineage,
    Project,
    Reference,
    ReviewStatus,
    Take,
    TakeReference,
    TakeState,
)
from studio.review import comments
from studio.review.versions import grid_versions, version_stack
from studio.takes import create
from tests.conftest import clip_row, join, make_user, take_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip(project):
    return clip_row(project, fps=24.0, duration=12.0)


_minute = [0]


def make(clip, author, **fields):
    """A finished take of `clip` (unless `fields` say otherwise), each made a minute after
    the one before."""
    _minute[0] += 1
    defaults = {
        "prompt": "Turn the ferry into clay",
        "seed": 7,
        "start_ms": 1000,
        "length_ms": 4000,
        "resolution": "720P",
        "created_at": timezone.now() - timedelta(days=30) + timedelta(minutes=_minute[0]),
    }
    return take_row(clip.project, clip=clip, created_by=author, **defaults | fields)


def review(client, take, status, **extra):
    return client.post(reverse("take_review", args=[take.code]), {"status": status}, **extra)


# -- review status ---------------------------------------------------------------------------
def test_an_editor_sets_the_status_and_it_goes_in_the_history(as_bob, bob, clip):
    take = make(clip, bob)
    response = review(as_bob, take, "approved", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "approved" and data["label"] == "Approved"
    assert data["who"].startswith("Set by Bob,")
    take.refresh_from_db()
    assert take.review_status == ReviewStatus.APPROVED and take.review_changed_by == bob
    assert take.review_changed_at is not None
    line = Activity.objects.get(verb="reviewed", take=take)
    assert line.actor == bob and "to approved" in line.summary


def test_without_javascript_the_form_comes_back_to_where_it_was(as_alice, alice, clip):
    take = make(clip, alice)
    grid = reverse("clip_grid", args=[clip.code]) + "?batch=x"
    response = as_alice.post(
        reverse("take_review", args=[take.code]), {"status": "changes_requested", "next": grid}
    )
    assert response.status_code == 302 and response.url == grid
    elsewhere = as_alice.post(
        reverse("take_review", args=[take.code]),
        {"status": "needs_review", "next": "https://evil.example/"},
    )
    assert elsewhere.url == reverse("take_detail", args=[take.code])
    take.refresh_from_db()
    assert take.review_status == ReviewStatus.NEEDS_REVIEW


def test_an_unknown_status_is_refused_with_the_reason(as_bob, bob, clip):
    take = make(clip, bob)
    response = review(as_bob, take, "shipped", HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "Choose a review status" in response.json()["error"]
    page = as_bob.post(reverse("take_review", args=[take.code]), {"status": "x"}, follow=True)
    assert "Choose a review status from the list." in page.content.decode()
    take.refresh_from_db()
    assert take.review_status == ReviewStatus.NONE


def test_viewers_cannot_set_the_status_and_outsiders_cannot_find_it(as_carol, as_dave, bob, clip):
    take = make(clip, bob)
    assert review(as_carol, take, "approved").status_code == 403
    assert review(as_dave, take, "approved").status_code == 404
    assert as_carol.get(reverse("take_review", args=[take.code])).status_code == 405
    take.refresh_from_db()
    assert take.review_status == ReviewStatus.NONE
    assert not Activity.objects.filter(verb="reviewed").exists()


def test_the_take_page_shows_the_status_to_all_and_the_control_to_editors(
    as_bob, as_carol, alice, bob, clip
):
    first = make(clip, bob)
    take = make(clip, bob)
    comments.take_review_set(take=take, status=ReviewStatus.CHANGES_REQUESTED, user=alice)
    url = reverse("take_detail", args=[take.code])
    editor = as_bob.get(url).content.decode()
    bar = editor[editor.index('id="review"') :][:3000]
    assert "Changes requested" in bar and "Set by Alice" in bar
    assert f'action="{reverse("take_review", args=[take.code])}"' in bar
    assert re.search(r'value="changes_requested" class="btn btn-small" aria-pressed="true"', bar)
    assert re.search(r'value="approved" class="btn btn-small" aria-pressed="false"', bar)
    assert f"#v-{take.code}" in bar and "v2 in the clip" in bar
    viewer = as_carol.get(url).content.decode()
    bar = viewer[viewer.index('id="review"') :][:3000]
    assert "Changes requested" in bar and "Set by Alice" in bar
    assert reverse("take_review", args=[take.code]) not in viewer
    assert first.code not in bar


# -- the gallery's review filter -------------------------------------------------------------
def test_the_gallery_filters_by_review_status_with_the_other_filters(as_bob, alice, bob, clip):
    approved = make(clip, bob, prompt="the winner")
    waiting = make(clip, bob, prompt="to look at", state=TakeState.FAILED)
    make(clip, bob, prompt="not reviewed")
    comments.take_review_set(take=approved, status=ReviewStatus.APPROVED, user=alice)
    comments.take_review_set(take=waiting, status=ReviewStatus.NEEDS_REVIEW, user=alice)
    url = reverse("team_gallery", args=[clip.project.team.code])

    def shown(**params):
        return {t.code for t in as_bob.get(url, params).context["takes"]}

    assert shown(review="approved") == {approved.code}
    assert shown(review="needs_review") == {waiting.code}
    assert shown(review="needs_review", state="succeeded") == set()
    assert shown(review="needs_review", state="failed") == {waiting.code}
    assert len(shown(review="bogus")) == 3  # unknown values are ignored, not errors
    page = as_bob.get(url, {"review": "approved"}).content.decode()
    assert '<option value="approved" selected>Approved</option>' in page
    # The card says it, in words.
    card = page[page.index(f'id="take-{approved.code}"') :][:2500]
    assert "review-approved" in card and ">Approved</span>" in card


def test_the_review_filter_is_kept_across_pages(as_bob, bob, alice, clip):
    for n in range(30):
        take = make(clip, bob, prompt=f"take {n}")
        comments.take_review_set(take=take, status=ReviewStatus.APPROVED, user=alice)
    url = reverse("team_gallery", args=[clip.project.team.code])
    page = as_bob.get(url, {"review": "approved"}).content.decode()
    older = re.search(r'rel="next" href="\?([^"]+)"', page).group(1)
    assert "review=approved" in older


# -- the version stack -----------------------------------------------------------------------
def test_versions_are_numbered_in_creation_order_with_their_lineage(project, clip, bob):
    v1 = make(clip, bob)
    v2 = make(clip, bob, run_of=v1, lineage=Lineage.RUN_AGAIN)
    v3 = make(clip, bob, run_of=v2, lineage=Lineage.REMIX, prompt="Turn it into wax")
    v4 = make(clip, bob, run_of=v1, lineage=Lineage.VARIATION, seed=99, batch="b1")
    v5 = make(clip, bob, run_of=None, lineage=Lineage.VARIATION, seed=98, batch="b1")
    other_clip = clip_row(project, original_name="other.mp4")
    elsewhere = make(other_clip, bob)
    v6 = make(clip, bob, run_of=elsewhere, lineage=Lineage.REMIX)
    versions, total = version_stack(clip=clip)
    assert total == 6
    assert [v.take for v in versions] == [v1, v2, v3, v4, v5, v6]
    assert [v.label for v in versions] == ["v1", "v2", "v3", "v4", "v5", "v6"]
    assert [v.lineage for v in versions] == [
        "",
        "run again of v1",
        "remix of v2",
        "variation of v1",
        "variation of a deleted take",
        "remix of a take of another clip",
    ]
    assert versions[3].came_from == v1.code and versions[3].came_from_number == 1


def test_each_version_says_what_differs_from_the_take_it_came_from(project, clip, bob):
    palette = Reference.objects.create(project=project, original_name="palette.png")
    grain = Reference.objects.create(project=project, original_name="grain.png")
    first = make(clip, bob)
    make(clip, bob, run_of=first, lineage=Lineage.RUN_AGAIN)
    changed = make(
        clip,
        bob,
        run_of=first,
        lineage=Lineage.REMIX,
        prompt="Turn the ferry into wax",
        negative_prompt="blur",
        resolution="1080P",
        ratio="1:1",
        duration=5,
        audio_setting="origin",
        prompt_extend=False,
        seed=99,
        start_ms=2000,
        length_ms=3000,
    )
    for position, reference in enumerate([palette, grain]):
        TakeReference.objects.create(take=changed, reference=reference, position=position)
    versions, _ = version_stack(clip=clip)
    assert versions[0].parent == "none" and versions[0].changes == []
    assert versions[1].parent == "parent" and versions[1].parent_label == "v1"
    assert versions[1].changes == []  # run again: nothing differs
    assert versions[2].parent_label == "v1"  # against its parent, not the row before it
    found = {c.label: (c.before, c.after) for c in versions[2].changes}
    assert found == {
        "Prompt": ("Turn the ferry into clay", "Turn the ferry into wax"),
        "Avoid": ("none", "blur"),
        "Resolution": ("720p", "1080p"),
        "Aspect ratio": ("Keep the clip's", "1:1 square"),
        "Output length": ("Same as the part chosen", "5 seconds"),
        "Sound": ("Let the model decide", "Keep the original sound"),
        "Prompt expansion": ("on", "off"),
        "Seed": ("7", "99"),
        "Part of the clip": ("1 s + 4 s", "2 s + 3 s"),
        "References": ("none", "palette.png, grain.png"),
    }


def test_the_clip_page_is_the_version_stack(as_carol, alice, bob, clip):
    v1 = make(clip, bob, prompt="clay harbour", seed=7)
    v2 = make(clip, bob, prompt="neon harbour", seed=99, state=TakeState.QUEUED)
    v3 = make(clip, bob, run_of=v1, lineage=Lineage.VARIATION, seed=5, batch="set1")
    comments.take_review_set(take=v3, status=ReviewStatus.APPROVED, user=alice)
    comments.comment_create(take=v1, author=bob, body="Too dark", frame=3)
    done = comments.comment_create(take=v1, author=bob, body="Sky", frame=5)
    comments.comment_resolve(comment=done, user=alice, resolved=True)
    page = as_carol.get(reverse("clip_detail", args=[clip.code])).content.decode()
    section = page[page.index('id="clip-takes"') :]
    assert "Versions of this clip" in section and "(3)" in section
    # Oldest first: v1, v2, v3.
    rows = re.findall(r'<tr id="v-([\w-]+)"', section)
    assert rows == [v1.code, v2.code, v3.code]
    row1 = section[section.index(f'id="v-{v1.code}"') : section.index(f'id="v-{v2.code}"')]
    assert ">v1<" in row1 and "New take: no parent" in row1 and "clay harbour" in row1
    assert "1 open</a>" in row1 and "of 2" in row1  # comment counts: open of all
    assert "Done" in row1 and "free (local engine)" in row1
    row2 = section[section.index(f'id="v-{v2.code}"') : section.index(f'id="v-{v3.code}"')]
    assert "Waiting for a free slot" in row2
    assert "New take: no parent" in row2 and "neon harbour" in row2 and ">99<" in row2
    row3 = section[section.index(f'id="v-{v3.code}"') :]
    assert f'<a href="#v-{v1.code}">variation of v1</a>' in row3
    assert 'data-review="approved"' in row3 and ">Approved</span>" in row3
    assert "What v3 changed from v1, the take it came from" in row3 and "clay harbour" in row3
    assert reverse("clip_grid", args=[clip.code]) + "?batch=set1" in row3
    # The approved one stands out in words at the top of the stack.
    top = section[section.index('id="stack-approved"') :][:600]
    assert f'href="#v-{v3.code}"' in top and ">v3</a>" in top and "by Alice" in top
    # Two ticked versions go to the compare, 2-4 to the grid.
    assert f'formaction="{reverse("clip_compare", args=[clip.code])}"' in section
    assert f'action="{reverse("clip_grid", args=[clip.code])}"' in section
    assert section.count('name="take"') == 3
    # A take still being made keeps the stack refreshing live, through its own partial.
    assert "data-pending" in page[page.index('id="clip-takes"') - 200 :][:600]
    partial = as_carol.get(reverse("clip_takes", args=[clip.code])).content.decode()
    assert "neon harbour" in partial and "<html" not in partial and ">v3<" in partial


def test_the_stack_of_a_clip_with_no_approved_version_says_so(as_bob, bob, clip):
    make(clip, bob)
    page = as_bob.get(reverse("clip_detail", args=[clip.code])).content.decode()
    assert "No version is approved yet." in page
    assert "data-pending" not in page[page.index('id="clip-takes"') - 200 :][:600]


def test_a_long_stack_shows_the_newest_and_numbers_them_all(clip, bob):
    made = [make(clip, bob, seed=0)]
    made += [make(clip, bob, seed=n, run_of=made[0], lineage=Lineage.REMIX) for n in range(1, 6)]
    versions, total = version_stack(clip=clip, limit=4)
    assert total == 6 and [v.label for v in versions] == ["v3", "v4", "v5", "v6"]
    assert [v.take for v in versions] == made[2:]
    # A parent older than the stack shows is still what the changes are measured against.
    assert versions[0].parent == "parent" and versions[0].parent_label == "v1"
    assert [(c.label, c.before, c.after) for c in versions[0].changes] == [("Seed", "0", "2")]


# -- compare two from the stack --------------------------------------------------------------
def test_two_ticked_versions_open_in_the_take_pages_compare(as_carol, bob, clip):
    older, newer = make(clip, bob), make(clip, bob, seed=9)
    url = reverse("clip_compare", args=[clip.code])
    response = as_carol.get(url, {"take": [newer.code, older.code]})
    assert response.status_code == 302
    assert response.url == reverse("take_detail", args=[newer.code]) + f"?with={older.code}"
    page = as_carol.get(response.url).content.decode()
    assert "What changed between the two takes" in page


@pytest.mark.parametrize("how", ["one", "three", "not done", "other clip"])
def test_compare_needs_two_finished_versions_of_this_clip(as_bob, project, bob, clip, how):
    a, b = make(clip, bob), make(clip, bob)
    codes = {
        "one": [a.code],
        "three": [a.code, b.code, make(clip, bob).code],
        "not done": [a.code, make(clip, bob, state=TakeState.RUNNING).code],
        "other clip": [a.code, make(clip_row(project), bob).code],
    }[how]
    response = as_bob.get(reverse("clip_compare", args=[clip.code]), {"take": codes}, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("clip_detail", args=[clip.code]))
    said = [str(m) for m in response.context["messages"]]
    assert len(said) == 1 and ("two" in said[0] or "this clip" in said[0])


# -- the variation grid ----------------------------------------------------------------------
def test_variations_land_on_the_grid_of_their_set(as_bob, bob, clip):
    source = make(clip, bob)
    response = as_bob.post(reverse("take_variations", args=[source.code]), {"count": "3"})
    made = list(Take.objects.exclude(pk=source.pk))
    batch = made[0].batch
    assert batch and {t.batch for t in made} == {batch}
    assert {t.lineage for t in made} == {Lineage.VARIATION} and {t.run_of for t in made} == {source}
    assert response.status_code == 302
    assert response.url == reverse("clip_grid", args=[clip.code]) + f"?batch={batch}"
    page = as_bob.get(response.url).content.decode()
    assert "<h1" in page and "Variations of v1" in page
    cells = re.findall(r'<li class="vcell" id="cell-([\w-]+)"', page)
    assert sorted(cells) == sorted(t.code for t in made)
    # Still queued: each cell says so and refreshes itself until it is done.
    for take in made:
        cell = page[page.index(f'id="cell-{take.code}"') :][:1500]
        assert "Waiting for a free slot" in cell and "data-pending" in cell
        assert reverse("take_grid_cell", args=[take.code]) in cell
        assert f'seed <span class="mono">{take.seed}</span>' in cell
    assert 'id="cell-source"' in page and 'data-fps="24"' in page


def test_a_cell_refreshes_into_the_finished_take(as_carol, bob, clip):
    take = make(clip, bob, state=TakeState.RUNNING, progress=0.5, batch="s")
    url = reverse("take_grid_cell", args=[take.code])
    cell = as_carol.get(url).content.decode()
    assert "<html" not in cell and f'id="cell-{take.code}"' in cell and "data-pending" in cell
    assert "Rendering" in cell and "<video" not in cell
    Take.objects.filter(pk=take.pk).update(state=TakeState.SUCCEEDED, result="takes/r.mp4")
    cell = as_carol.get(url).content.decode()
    assert "data-pending" not in cell and "<video" in cell and ">v1<" in cell


def test_any_two_to_four_versions_of_the_clip_play_in_a_grid(as_bob, bob, clip):
    picked = [make(clip, bob, seed=n) for n in range(4)]
    url = reverse("clip_grid", args=[clip.code])
    page = as_bob.get(url, {"take": [picked[3].code, picked[1].code]}).content.decode()
    assert "v2 and v4 side by side" in page
    cells = re.findall(r'<li class="vcell" id="cell-([\w-]+)"', page)
    assert cells == [picked[1].code, picked[3].code]  # in version order
    assert page.count("data-approve>") == 2
    page = as_bob.get(url, {"take": [t.code for t in picked]}).content.decode()
    assert "v1, v2, v3 and v4 side by side" in page and 'data-cells="5"' in page


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("one", "Choose 2 to 4 takes"),
        ("five", "Choose 2 to 4 takes"),
        ("nothing", "Choose 2 to 4 takes"),
        ("other clip", "Only takes of this clip"),
        ("other team", "Only takes of this clip"),
        ("unknown", "Only takes of this clip"),
        ("unknown batch", "not one of this clip's"),
        ("batch and takes", "not both"),
    ],
)
def test_grid_selection_rules(as_bob, project, bob, clip, how, message):
    mine = [make(clip, bob, seed=n, batch="set") for n in range(2)]
    more = [make(clip, bob, seed=n) for n in range(5)]
    outsiders = Team.objects.create(name="Elsewhere")
    erin = make_user("erin@example.com", "Erin")
    join(erin, outsiders, "owner")
    theirs = Project.objects.create(team=outsiders, name="Theirs")
    foreign = make(clip_row(theirs), erin, prompt="their secret plan")
    params = {
        "one": {"take": [mine[0].code]},
        "five": {"take": [t.code for t in more]},
        "nothing": {},
        "other clip": {"take": [mine[0].code, make(clip_row(project), bob).code]},
        "other team": {"take": [mine[0].code, foreign.code]},
        "unknown": {"take": [mine[0].code, "no-such-take"]},
        "unknown batch": {"batch": "nope"},
        "batch and takes": {"batch": "set", "take": [more[0].code, more[1].code]},
    }[how]
    response = as_bob.get(reverse("clip_grid", args=[clip.code]), params, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("clip_detail", args=[clip.code]))
    said = [str(m) for m in response.context["messages"]]
    assert len(said) == 1 and message in said[0], said
    assert foreign.prompt not in response.content.decode()


def test_the_same_take_twice_counts_once(clip, bob):
    take = make(clip, bob)
    with pytest.raises(Refused, match="Choose 2 to 4"):
        grid_versions(clip=clip, codes=[take.code, take.code])


def test_viewers_watch_the_grid_without_approving_and_outsiders_get_404(
    as_carol, as_dave, bob, clip
):
    picked = [make(clip, bob, seed=n) for n in range(2)]
    params = {"take": [t.code for t in picked]}
    url = reverse("clip_grid", args=[clip.code])
    page = as_carol.get(url, params).content.decode()
    assert "v1 and v2 side by side" in page and "data-approve" not in page
    assert "data-sound" in page
    assert as_dave.get(url, params).status_code == 404
    assert as_dave.get(reverse("take_grid_cell", args=[picked[0].code])).status_code == 404


def test_approving_from_the_grid_marks_the_winner(as_bob, bob, clip):
    picked = [make(clip, bob, seed=n, batch="set") for n in range(3)]
    grid = reverse("clip_grid", args=[clip.code]) + "?batch=set"
    page = as_bob.get(grid).content.decode()
    assert f'name="next" value="{grid}"' in page
    response = as_bob.post(
        reverse("take_review", args=[picked[1].code]), {"status": "approved", "next": grid}
    )
    assert response.url == grid
    page = as_bob.get(grid).content.decode()
    cell = page[page.index(f'id="cell-{picked[1].code}"') :][:3000]
    assert 'data-review="approved"' in cell
    assert 'aria-pressed="true" data-approve><span data-approve-text>Approved' in cell
    other = page[page.index(f'id="cell-{picked[0].code}"') :][:3000]
    assert 'data-review="none"' in other and "data-approve-text>Approve<" in other


def test_takes_made_from_the_form_and_by_run_again_keep_their_lineage(as_bob, bob, clip):
    first = make(clip, bob)
    again = create.take_run_again(take=first, author=bob)
    assert again.run_of == first and again.lineage == Lineage.RUN_AGAIN and again.batch == ""
    versions, _ = version_stack(clip=clip)
    assert versions[-1].lineage == "run again of v1"
