"""The team trash (studio.projects.trash, studio.library.trash, studio.takes.trash): what goes
there with what, who brings it back, links that stop, and the sweep that frees the files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Role
from studio.core.errors import Refused
from studio.cuts import services as cuts
from studio.cuts.renders import cut_plan
from studio.governance.budgets import month_start
from studio.governance.usage import team_usage
from studio.library.trash import clip_trash
from studio.models import Activity, Clip, Comment, ShareLink, Take, TakeState
from studio.projects.trash import trash_sweep
from studio.review.shares import share_create
from studio.takes.trash import take_trash
from tests.conftest import client_for, clip_row, join, make_user

pytestmark = pytest.mark.django_db
DAY = 24 * 3600


def _stored(take: Take) -> Path:
    return Path(settings.MEDIA_ROOT) / take.result.name


@pytest.fixture
def clip_with_takes(project, make_take, bob):
    """A clip with two finished takes, a comment and a live share link of the first."""
    clip = clip_row(project, original_name="harbour.mp4")
    first = make_take(clip=clip, title="Warm")
    second = make_take(clip=clip, title="Cold")
    Comment.objects.create(take=first, author=bob, body="Lovely", frame=0, fps=25)
    _, token = share_create(
        take=first, author=bob, days=None, allow_download=False, show_prompt=True
    )
    return clip, first, second, token


def test_deleting_a_clip_says_what_it_affects_then_trashes_it_with_its_takes(
    clip_with_takes, as_bob, as_alice, project, team, client
):
    clip, first, second, token = clip_with_takes
    asked = as_bob.get(reverse("clip_delete", args=[clip.code])).content.decode()
    for said in (
        "<strong>2</strong> takes",
        "<strong>1</strong> comment ",
        "<strong>1</strong> share link stops",
        "trash for 30 days",
    ):
        assert said in asked
    assert client.get(reverse("share_page", args=[token])).status_code == 200

    response = as_bob.post(reverse("clip_delete", args=[clip.code]))

    assert response.status_code == 302
    clip.refresh_from_db()
    assert clip.trashed_at and clip.trashed_by.email == "bob@example.com"
    assert set(Take.objects.filter(trashed_with_clip=True).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    gone = client.get(reverse("share_page", args=[token]))
    assert gone.status_code == 410
    assert "This link no longer works: the take was deleted." in gone.content.decode()
    assert client.get(reverse("share_media", args=[token, "result"])).status_code == 404
    # Gone from the project page, the gallery and its search, the team's counts.
    page = as_alice.get(reverse("project_detail", args=[project.code])).content.decode()
    assert "harbour.mp4" not in page and first.code not in page
    gallery = as_alice.get(reverse("team_gallery", args=[team.code]) + "?q=clay").content
    assert first.code.encode() not in gallery and second.code.encode() not in gallery
    assert "0 clips" in as_alice.get(reverse("team_detail", args=[team.code])).content.decode()
    # Its page sends people to the trash, which lists it with its takes.
    assert as_alice.get(reverse("clip_detail", args=[clip.code]))["Location"] == reverse(
        "team_trash", args=[team.code]
    )
    trash = as_alice.get(reverse("team_trash", args=[team.code])).content.decode()
    assert "harbour.mp4" in trash and "with 2 takes" in trash
    assert "Warm" not in trash  # its takes come back with it, not one by one
    assert Activity.objects.filter(verb="trashed", summary__contains="harbour.mp4").exists()


def test_owners_and_who_deleted_it_restore_others_are_told_why_not(
    clip_with_takes, bob, team, as_alice, client
):
    clip, first, _, token = clip_with_takes
    eve = make_user("eve@example.com", "Eve")
    join(eve, team, Role.EDITOR)
    clip_trash(clip, bob)
    as_eve = client_for(eve)

    trash = as_eve.get(reverse("team_trash", args=[team.code])).content.decode()
    assert "Restore" not in trash.split('id="trash-items"')[1].split("</table>")[0].replace(
        "restore it", ""
    )
    refused = as_eve.post(reverse("clip_restore", args=[clip.code]), follow=True)
    assert "Only the team&#x27;s owners and the person who deleted it" in refused.content.decode()
    clip.refresh_from_db()
    assert clip.is_trashed

    bob_sees = client_for(bob).get(reverse("team_trash", args=[team.code])).content.decode()
    assert f'action="{reverse("clip_restore", args=[clip.code])}"' in bob_sees
    back = as_alice.post(reverse("clip_restore", args=[clip.code]), follow=True)
    assert "harbour.mp4 is back, with 2 takes." in back.content.decode()
    clip.refresh_from_db()
    assert not clip.is_trashed
    assert not Take.objects.filter(trashed_at__isnull=False).exists()
    assert client.get(reverse("share_page", args=[token])).status_code == 200
    assert Activity.objects.filter(verb="restored").count() == 1


def test_a_take_is_deleted_alone_and_restored_by_who_deleted_it(clip_with_takes, as_bob, carol):
    clip, first, second, _ = clip_with_takes
    assert "Delete take" in as_bob.get(reverse("take_detail", args=[first.code])).content.decode()
    stack = as_bob.get(reverse("clip_takes", args=[clip.code])).content.decode()
    assert reverse("take_delete", args=[first.code]) in stack

    as_bob.post(reverse("take_delete", args=[first.code]))

    first.refresh_from_db()
    assert first.is_trashed and not first.trashed_with_clip
    stack = as_bob.get(reverse("clip_takes", args=[clip.code])).content.decode()
    assert first.code not in stack and second.code in stack
    page = as_bob.get(reverse("take_detail", args=[first.code])).content.decode()
    assert "This take is in the trash." in page and "Run again" not in page
    with pytest.raises(Refused, match="editors and owners"):
        take_trash(second, carol)
    as_bob.post(reverse("take_restore", args=[first.code]))
    first.refresh_from_db()
    assert not first.is_trashed


def test_a_take_still_being_made_is_not_trashed(project, make_take, bob, as_bob):
    clip = clip_row(project)
    running = make_take(TakeState.RUNNING, clip=clip)
    with pytest.raises(
        Refused, match="The take v1 “clay” is still being made \\(rendering\\): cancel it first"
    ):
        take_trash(running, bob)
    with pytest.raises(Refused, match="cancel it first"):
        clip_trash(clip, bob)
    said = as_bob.post(reverse("clip_delete", args=[clip.code]), follow=True).content.decode()
    assert "cancel it first" in said
    assert not Clip.objects.get(pk=clip.pk).is_trashed
    assert not Take.objects.get(pk=running.pk).is_trashed


def test_the_sweep_frees_files_after_30_days_and_keeps_what_was_spent(
    clock, project, make_take, bob, team
):
    clip = clip_row(project)
    free = make_take(clip=clip)
    paid = make_take(clip=clip, provider="modellix")
    loose = make_take(clip=clip_row(project, original_name="other.mp4"))
    month = month_start()
    spent = team_usage(team=team, month=month).total.counted
    assert spent > 0
    clip_trash(clip, bob)
    take_trash(loose, bob)
    files = [_stored(t) for t in (free, paid, loose)] + [Path(clip.source.path)]
    assert all(path.exists() for path in files)

    clock.advance(29 * DAY)
    assert trash_sweep() == 0
    assert all(path.exists() for path in files)
    assert team_usage(team=team, month=month).total.counted == spent

    clock.advance(DAY + 1)
    assert trash_sweep() == 2  # the clip (with its takes) and the take deleted alone

    assert not any(path.exists() for path in files)
    assert not Clip.objects.filter(pk=clip.pk).exists()
    assert not Take.objects.filter(pk__in=[free.pk, loose.pk]).exists()
    bare = Take.objects.get(pk=paid.pk)  # money spent stays spent
    assert not bare.result and bare.clip is None and bare.charged_usd
    assert team_usage(team=team, month=month).total.counted == spent
    assert trash_sweep() == 0  # nothing left to do: a second pass changes nothing


def test_the_sweep_finishes_after_a_crash_between_files_and_rows(
    clock, project, make_take, bob, as_alice, team
):
    take = make_take(clip=clip_row(project))
    take_trash(take, bob)
    as_alice.post(reverse("take_delete_for_good", args=[take.code]))
    _stored(take).unlink()  # a pass removed the file, then died before the row went
    assert (
        "The trash is empty"
        in as_alice.get(reverse("team_trash", args=[team.code])).content.decode()
    )
    assert trash_sweep() == 1
    assert not Take.objects.filter(pk=take.pk).exists()
    assert trash_sweep() == 0
    assert Activity.objects.filter(verb="deleted", summary__contains="for good").exists()


def test_only_owners_empty_the_trash(project, make_take, bob, as_bob, as_alice, team):
    take = make_take(clip=clip_row(project))
    take_trash(take, bob)
    said = as_bob.post(reverse("team_trash_empty", args=[team.code]), follow=True)
    assert "Only the team&#x27;s owners can empty the trash." in said.content.decode()
    assert Take.objects.in_trash().count() == 1
    as_alice.post(reverse("team_trash_empty", args=[team.code]))
    assert Take.objects.in_trash().count() == 0 and Take.objects.due().count() == 1
    assert _stored(take).exists()  # not in the request: the sweep removes it
    trash_sweep()
    assert not _stored(take).exists()


def test_a_take_whose_source_is_gone_says_so_and_offers_nothing_that_cannot_work(
    project, make_take, as_bob, alice, client, bob
):
    take = make_take(clip=clip_row(project))
    _, token = share_create(
        take=take, author=bob, days=None, allow_download=False, show_prompt=True
    )
    Take.objects.filter(pk=take.pk).update(clip=None, input_clip=None)  # deleted before trash
    page = as_bob.get(reverse("take_detail", args=[take.code])).content.decode()
    assert "The source clip was deleted; the edited take is kept." in page
    for missing in ("Run again", "Remix", "variations ·", "Export side-by-side", "media/input"):
        assert missing not in page
    refused = as_bob.post(reverse("take_again", args=[take.code]), follow=True).content.decode()
    assert "The source clip of this take is gone" in refused
    shared = client.get(reverse("share_page", args=[token])).content.decode()
    assert "The source clip was deleted; the edited take is kept." in shared

    other = make_take(clip=clip_row(project, original_name="b.mp4"))
    Clip.objects.filter(pk=other.clip_id).update(trashed_at=other.created_at, trashed_by=alice)
    page = as_bob.get(reverse("take_detail", args=[other.code])).content.decode()
    when = other.created_at.strftime("%-d %b %Y")
    assert f"The source clip was deleted on {when} by Alice; the edited take is kept." in page
    assert "Run again" not in page
    assert not ShareLink.objects.filter(revoked_at__isnull=False).exists()


def test_a_trashed_take_leaves_its_cut_window_until_it_is_back(project, make_take, bob, as_bob):
    clip = clip_row(project, fps=25.0)
    cut = cuts.cut_create(clip=clip, author=bob, name="Clay cut")
    window = cuts.window_add(cut=cut, start=1.0, end=4.0)
    chosen = make_take(clip=clip, window=window, prompt="clay boats")
    cuts.window_choose(window=window, take=chosen)
    assert cut_plan(cut)["source_kept"] == []

    take_trash(chosen, bob)

    page = as_bob.get(reverse("cut_detail", args=[cut.code])).content.decode()
    assert "clay boats" not in page and 'data-stack="no takes"' in page
    assert cut_plan(cut)["source_kept"] == [1]  # a render keeps the source there
    as_bob.post(reverse("take_restore", args=[chosen.code]))
    assert "clay boats" in as_bob.get(reverse("cut_detail", args=[cut.code])).content.decode()
    assert cut_plan(cut)["source_kept"] == []
