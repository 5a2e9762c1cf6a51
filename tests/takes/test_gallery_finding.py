"""Finding takes (issue 23, item 7): versions and clip names on the gallery's cards, its sort
orders kept in the URL at a constant query count, its bulk actions (zip, review status, stars)
and what changed from the take each came from."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team
from studio.models import Activity, Lineage, Project, ReviewStatus, Take, TakeStar, TakeState
from studio.review import comments
from studio.takes import gallery
from tests.conftest import clip_row, take_row
from tests.cuts.rows import render_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def pier(project):
    return clip_row(project, original_name="pier.mp4", duration=12.0)


@pytest.fixture
def harbour(project):
    return clip_row(project, original_name="Harbour night.mov", duration=12.0)


def made(clip, author, minutes_ago: int, **fields) -> Take:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return take_row(
        clip.project, clip=clip, created_by=author, created_at=at, **{"prompt": "clay"} | fields
    )


def codes(response) -> list[str]:
    return [entry.code for entry in response.context["takes"]]


def gallery_url(team) -> str:
    return reverse("team_gallery", args=[team.code])


# -- cards -----------------------------------------------------------------------------------
def test_cards_name_untitled_takes_by_clip_and_version(as_bob, bob, team, pier, samples):
    takes = [made(pier, bob, n, prompt="Turn it into clay") for n in range(4)]
    titled = made(pier, bob, 0, title="Hero shot")
    render = render_row(pier.project, bob, samples)
    page = as_bob.get(gallery_url(team)).content.decode()
    names = re.findall(r'<p class="strong name"[^>]*>([^<]+)</p>', page)
    for take in takes:
        assert f"pier.mp4 {take.version_label}" in names
    assert "Hero shot" in names and names.count("Turn it into clay") == 0
    card = page.split(f'data-take="{takes[2].code}"', 1)[1].split("</li>", 1)[0]
    assert f'<span class="version-label">{takes[2].version_label}</span> of' in card
    assert f'href="{reverse("clip_detail", args=[pier.code])}" class="clip-name">pier.mp4' in card
    assert f'class="thumb-version" aria-hidden="true">{takes[2].version_label}<' in card
    assert 'type="checkbox" name="take"' in card and 'form="bulk"' in card
    rendered = page.split(f'data-render="{render.code}"', 1)[1].split("</li>", 1)[0]
    assert f"Render v{render.number}" in rendered and ">Render</span>" in rendered
    assert "interview.mp4" in rendered and 'name="take"' not in rendered
    assert titled.version_label == "v5"


# -- sort orders ------------------------------------------------------------------------------
@pytest.fixture
def mixed(bob, alice, team, pier, harbour, samples):
    """Takes of two clips with review statuses and a star, and a cut's render."""
    p1 = made(pier, bob, 50)
    h1 = made(harbour, bob, 40)
    p2 = made(pier, bob, 30, run_of=p1, lineage=Lineage.RUN_AGAIN)
    h2 = made(harbour, bob, 20)
    p3 = made(pier, bob, 10, state=TakeState.FAILED)
    comments.take_review_set(take=h1, status=ReviewStatus.APPROVED, user=alice)
    comments.take_review_set(take=p2, status=ReviewStatus.NEEDS_REVIEW, user=alice)
    comments.take_review_set(take=p3, status=ReviewStatus.CHANGES_REQUESTED, user=alice)
    gallery.take_star(take=h2, user=bob, starred=True)
    render = render_row(pier.project, bob, samples)
    return {"p1": p1, "h1": h1, "p2": p2, "h2": h2, "p3": p3, "render": render}


def test_each_sort_order(as_bob, team, mixed):
    render = mixed["render"]
    windows = list(Take.objects.filter(window__isnull=False).order_by("-created_at", "-pk"))
    everything = len(as_bob.get(gallery_url(team)).context["takes"])
    assert everything == 8  # five takes, the render's two window takes, the render

    def order(sort: str) -> list[str]:
        return codes(as_bob.get(gallery_url(team), {"sort": sort}))

    newest = order("newest")
    assert newest[0] == render.code and newest == order("bogus")  # unknown: the default
    assert order("oldest") == newest[::-1]
    p1, h1, p2, h2, p3 = (mixed[k].code for k in ("p1", "h1", "p2", "h2", "p3"))
    # By clip name, case apart (Harbour before interview before pier), newest first in each.
    interview = [render.code, *(t.code for t in windows)]
    assert order("clip") == [h2, h1, *interview, p3, p2, p1]
    # Needs review, changes requested, approved, then the rest newest first.
    rest = [c for c in newest if c not in (p2, p3, h1)]
    assert order("review") == [p2, p3, h1, *rest]
    # My favourites first (bob starred h2), then newest first.
    assert order("starred") == [h2, *(c for c in newest if c != h2)]
    by_version = order("version")
    numbers = [
        mixed_entry.version if isinstance(mixed_entry, Take) else mixed_entry.number
        for mixed_entry in as_bob.get(gallery_url(team), {"sort": "version"}).context["takes"]
    ]
    assert numbers == sorted(numbers, reverse=True) and len(by_version) == 8


@pytest.mark.parametrize("sort", list(gallery.SORTS))
def test_every_sort_pages_through_everything_once(as_bob, team, mixed, sort, monkeypatch):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 3)
    url = gallery_url(team)
    whole = codes(as_bob.get(url, {"sort": sort}))  # 3 of them, then follow the cursor
    monkeypatch.setattr(gallery, "PAGE_SIZE", 50)
    expected = codes(as_bob.get(url, {"sort": sort}))
    monkeypatch.setattr(gallery, "PAGE_SIZE", 3)
    response = as_bob.get(url, {"sort": sort})
    walked = []
    while True:
        walked += codes(response)
        page = response.content.decode()
        link = re.search(r'rel="next" href="\?([^"]+)"', page)
        if not link:
            break
        query = link.group(1).replace("&amp;", "&")
        assert f"sort={sort}" in query  # the order is kept in the URL with the filters
        response = as_bob.get(f"{url}?{query}")
    assert walked == expected and len(walked) == 8 and whole == expected[:3]


def test_a_cursor_of_another_order_starts_again(as_bob, team, mixed, monkeypatch):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 3)
    first = as_bob.get(gallery_url(team), {"sort": "clip"})
    cursor = first.context["next_cursor"]
    again = as_bob.get(gallery_url(team), {"sort": "version", "before": cursor})
    assert codes(again) == codes(as_bob.get(gallery_url(team), {"sort": "version"}))
    assert codes(as_bob.get(gallery_url(team), {"before": "bm90IGpzb24"})) == codes(
        as_bob.get(gallery_url(team))
    )


def test_query_count_is_constant_in_every_order(as_bob, bob, team, pier, harbour):
    for n in range(2):
        made(pier, bob, n)
    few = {}
    for sort in gallery.SORTS:
        with CaptureQueriesContext(connection) as queries:
            as_bob.get(gallery_url(team), {"sort": sort})
        few[sort] = len(queries)
    for n in range(40):
        made(harbour if n % 2 else pier, bob, 100 + n, title=f"t{n}")
    for sort in gallery.SORTS:
        first = as_bob.get(gallery_url(team), {"sort": sort})
        with CaptureQueriesContext(connection) as queries:
            as_bob.get(gallery_url(team), {"sort": sort, "before": first.context["next_cursor"]})
        assert len(queries) == few[sort] == few["newest"], sort


def test_filters_count_for_the_phone_button(as_bob, team, mixed, project):
    page = as_bob.get(gallery_url(team), {"review": "approved", "project": project.code})
    assert page.context["active_filters"] == 2
    assert "Filters (2)" in page.content.decode()
    plain = as_bob.get(gallery_url(team), {"sort": "clip"})
    assert plain.context["active_filters"] == 0
    assert 'aria-controls="gallery-filters"' in plain.content.decode()


# -- bulk actions -----------------------------------------------------------------------------
def bulk(client, team, action, takes, **fields):
    data = {"action": action, "take": [getattr(t, "code", t) for t in takes]} | fields
    return client.post(reverse("gallery_bulk", args=[team.code]), data, follow=True)


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_bulk_review_status_by_an_editor(as_bob, bob, alice, team, pier):
    takes = [made(pier, alice, n) for n in range(3)]
    other_team = Team.objects.create(name="Elsewhere")
    foreign = take_row(Project.objects.create(team=other_team, name="Theirs"))
    response = bulk(as_bob, team, "review", [*takes, foreign], status="approved")
    assert said(response) == [
        "3 takes changed; 1 could not be: not found (deleted, or not one of this team's "
        f"takes) ({foreign.code})."
    ]
    for take in takes:
        take.refresh_from_db()
        assert take.review_status == ReviewStatus.APPROVED and take.review_changed_by == bob
    foreign.refresh_from_db()
    assert foreign.review_status == ReviewStatus.NONE
    assert Activity.objects.filter(verb="reviewed", actor=bob).count() == 3
    # Back on the gallery the cards show it.
    page = response.content.decode()
    for take in takes:
        card = page.split(f'data-take="{take.code}"', 1)[1].split("</li>", 1)[0]
        assert ">Approved</span>" in card
    again = bulk(as_bob, team, "review", takes, status="needs_review")
    assert said(again) == ["3 takes set to Needs review."]


def test_bulk_move_to_trash_moves_what_it_may_and_says_why_not_the_rest(
    as_bob, as_carol, bob, team, pier
):
    done = [made(pier, bob, n) for n in range(2)]
    running = made(pier, bob, 5, state=TakeState.RUNNING)
    # A viewer is refused every take in words, and is not offered the button.
    response = bulk(as_carol, team, "trash", done)
    names = ", ".join(t.list_name for t in done)
    assert said(response) == [
        f"No take changed; 2 could not be: viewers cannot delete takes ({names})."
    ]
    assert 'value="trash"' not in as_carol.get(gallery_url(team)).content.decode()
    assert not Take.objects.in_trash().exists()
    response = bulk(as_bob, team, "trash", [*done, running])
    assert said(response) == [
        "2 takes changed; 1 could not be: still being made: cancel it first, or wait until it "
        f"finishes ({running.list_name})."
    ]
    assert set(Take.objects.in_trash()) == set(done)
    assert all(t.trashed_by == bob for t in Take.objects.in_trash())
    assert codes(as_bob.get(gallery_url(team))) == [running.code]  # the trashed ones left
    assert Activity.objects.filter(verb="trashed").count() == 2
    # Ticked again from an old page: they are no longer the team's listable takes.
    response = bulk(as_bob, team, "star", done)
    assert said(response)[0].startswith("No take changed; 2 could not be: not found")


def test_bulk_review_status_is_refused_to_viewers_in_words(as_carol, carol, team, pier, bob):
    takes = [made(pier, bob, n) for n in range(2)]
    response = bulk(as_carol, team, "review", takes, status="approved")
    names = ", ".join(t.list_name for t in takes)
    assert said(response) == [
        f"No take changed; 2 could not be: viewers cannot set a review status ({names})."
    ]
    assert not Take.objects.filter(review_status=ReviewStatus.APPROVED).exists()
    assert not Activity.objects.filter(verb="reviewed").exists()
    # Viewers are not offered the control; the gallery still lets them download and star.
    page = as_carol.get(gallery_url(team)).content.decode()
    assert 'name="action" value="review"' not in page
    assert 'name="action" value="download"' in page


def test_bulk_stars_and_the_rules_of_the_endpoint(as_carol, as_dave, carol, team, pier, bob):
    takes = [made(pier, bob, n) for n in range(3)]
    response = bulk(as_carol, team, "star", takes)  # a viewer may star what they see
    assert said(response) == ["3 takes starred."]
    assert TakeStar.objects.filter(user=carol).count() == 3
    assert said(bulk(as_carol, team, "unstar", takes[:2])) == ["2 takes unstarred."]
    assert TakeStar.objects.filter(user=carol).count() == 1
    assert said(bulk(as_carol, team, "star", [])) == [
        "Tick one or more takes first, then choose what to do."
    ]
    assert said(bulk(as_carol, team, "explode", takes)) == [
        "Choose what to do with the ticked takes."
    ]
    url = reverse("gallery_bulk", args=[team.code])
    assert as_carol.get(url).status_code == 405
    assert as_dave.post(url, {"action": "star", "take": [takes[0].code]}).status_code == 404
    assert not TakeStar.objects.exclude(user=carol).exists()


def test_bulk_download_is_a_zip_of_the_right_files(as_carol, team, pier, harbour, bob):
    one = made(pier, bob, 3, seed=410388421, result=b"first take bytes" * 100)
    two = made(harbour, bob, 2, seed=7, result=b"second")
    three = made(pier, bob, 1, seed=9, result=b"third take")
    waiting = made(pier, bob, 0, state=TakeState.QUEUED)
    response = as_carol.post(
        reverse("gallery_bulk", args=[team.code]),
        {"action": "download", "take": [one.code, two.code, three.code, waiting.code]},
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="cutroom-3-takes-')
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    with zipfile.ZipFile(io.BytesIO(body)) as packed:
        assert packed.namelist() == [
            f"{one.download_stem}.mp4",
            f"{two.download_stem}.mp4",
            f"{three.download_stem}.mp4",
            "not-included.txt",
        ]
        assert packed.namelist()[0].startswith(f"pier_{one.version_label}_00-00_")
        assert packed.namelist()[0].endswith("_s410388421.mp4")
        assert packed.read(packed.namelist()[0]) == b"first take bytes" * 100
        assert packed.read(packed.namelist()[1]) == b"second"
        assert packed.read(packed.namelist()[2]) == b"third take"
        note = packed.read("not-included.txt").decode()
        assert f"it has no finished video to download ({waiting.list_name})" in note


def test_bulk_download_with_nothing_to_download_says_why(as_bob, team, pier, bob):
    gone = made(pier, bob, 1)
    gone.result.storage.delete(gone.result.name)
    waiting = made(pier, bob, 0, state=TakeState.RUNNING)
    response = bulk(as_bob, team, "download", [gone, waiting])
    assert said(response) == [
        f"Nothing to download: its video is no longer stored ({gone.list_name}); it has no "
        f"finished video to download ({waiting.list_name})."
    ]


# -- what changed: against the parent --------------------------------------------------------
def test_the_take_page_compares_with_the_take_it_came_from(as_bob, bob, pier):
    parent = made(pier, bob, 30, prompt="clay", seed=1)
    made(pier, bob, 20, prompt="unrelated row in between", seed=2)
    child = made(pier, bob, 10, prompt="wax", seed=1, run_of=parent, lineage=Lineage.REMIX)
    fresh = made(pier, bob, 5)
    page = as_bob.get(reverse("take_detail", args=[child.code])).content.decode()
    section = page.split('id="from-parent"', 1)[1].split("</section>", 1)[0]
    assert f'Remix of <a href="{reverse("take_detail", args=[parent.code])}">v1</a>' in section
    assert '<span class="change-before">clay</span>' in section
    assert '<span class="change-after">wax</span>' in section
    assert "unrelated" not in section and "Seed" not in section
    heading = page.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert '<span class="version-label">v3</span> wax' in heading
    # The compare-with list names each take by its version.
    select = page.split('<select id="with"', 1)[1].split("</select>", 1)[0]
    assert "v1 · clay · seed 1" in select and "v4 · clay" in select
    page = as_bob.get(reverse("take_detail", args=[fresh.code])).content.decode()
    assert "New take: no parent" in page.split('id="from-parent"', 1)[1]
    parent.delete()
    page = as_bob.get(reverse("take_detail", args=[child.code])).content.decode()
    section = page.split('id="from-parent"', 1)[1].split("</section>", 1)[0]
    assert "The take this one came from has been deleted" in section


def test_history_lines_name_the_take_by_version(as_bob, alice, team, pier, bob):
    take = made(pier, bob, 0)
    made(pier, bob, 0)
    comments.take_review_set(take=take, status=ReviewStatus.APPROVED, user=alice)
    page = as_bob.get(reverse("team_activity", args=[team.code])).content.decode()
    link = f'<a href="{reverse("take_detail", args=[take.code])}">take v1</a>'
    assert link in page


def test_select_all_without_javascript_keeps_the_page(as_bob, bob, team, pier, monkeypatch):
    monkeypatch.setattr(gallery, "PAGE_SIZE", 2)
    takes = [made(pier, bob, n) for n in range(5)]
    first = as_bob.get(gallery_url(team), {"sort": "oldest"})
    cursor = first.context["next_cursor"]
    second = as_bob.get(gallery_url(team), {"sort": "oldest", "before": cursor})
    page = second.content.decode()
    link = re.search(r'href="\?([^"]+)" data-select-all', page).group(1).replace("&amp;", "&")
    ticked = as_bob.get(f"{gallery_url(team)}?{link}")
    assert codes(ticked) == [t.code for t in takes[2:0:-1]]  # the same page, every box ticked
    assert ticked.content.decode().count(" checked data-pick") == 2
    form = ticked.content.decode().split('id="bulk"', 1)[1]
    back = re.search(r'name="next" value="([^"]+)"', form).group(1)
    assert "select=" not in back and "sort=oldest" in back and "before=" in back
