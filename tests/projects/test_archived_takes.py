"""An archived project makes no new (paid) takes: not from the edit form, Remix, Run again,
Variations, nor Send it again. The services refuse, so every path is covered, and the views say
why in words a person can act on."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.core import errors
from studio.models import Project, Take, TakeState
from studio.projects import services as projects
from studio.takes import common, create
from studio.takes.parameters import EditParameters
from tests.conftest import clip_row

pytestmark = pytest.mark.django_db
CLAY = EditParameters(prompt="clay")
ARCHIVED = "This project is archived: restore it on the project page to make new takes."


@pytest.fixture
def clip(project):
    """The forms never decode the clip: a placeholder row is enough."""
    return clip_row(project)


@pytest.fixture
def finished(clip, make_take) -> Take:
    return make_take()


@pytest.fixture
def uncertain(clip, make_take) -> Take:
    return make_take(TakeState.UNCERTAIN, "modellix", event="HTTP 504")


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr(common, "kick", lambda: None)
    monkeypatch.setattr(common, "dispatch", lambda task, take_id: None)


def archive(project: Project) -> None:
    projects.project_archive(project=project, archived=True)


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# -- the services refuse, whoever calls them ------------------------------------------------
def test_take_create_refuses_in_an_archived_project(project, clip, bob):
    archive(project)
    with pytest.raises(errors.Refused, match="archived"):
        create.take_create(project=project, author=bob, clip=clip, parameters=CLAY, length=3.0)
    assert not Take.objects.exists()


def test_the_check_reads_the_database_not_a_stale_object(project, clip, bob):
    stale = Project.objects.get(pk=project.pk)  # loaded before another request archived it
    archive(project)
    with pytest.raises(errors.Refused, match="archived"):
        create.take_create(project=stale, author=bob, clip=clip, parameters=CLAY, length=3.0)


def test_run_again_and_variations_refuse(project, finished, bob):
    archive(project)
    with pytest.raises(errors.Refused) as refused:
        create.take_run_again(take=finished, author=bob)
    assert str(refused.value) == ARCHIVED
    with pytest.raises(errors.Refused):
        create.take_variations(take=finished, author=bob, count=3)
    assert Take.objects.count() == 1


def test_send_again_refuses_and_the_take_stays_uncertain(project, uncertain, bob):
    archive(project)
    with pytest.raises(errors.Refused, match="archived"):
        create.take_send_again(take=uncertain, author=bob)
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN and uncertain.submit_posts == 1


def test_restored_project_makes_takes_again(project, finished, bob):
    archive(project)
    projects.project_archive(project=project, archived=False)
    again = create.take_run_again(take=finished, author=bob)
    assert again.run_of == finished


# -- the views say why and create nothing ---------------------------------------------------
def test_run_again_view_says_the_project_is_archived(as_bob, project, finished):
    archive(project)
    response = as_bob.post(reverse("take_again", args=[finished.code]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("take_detail", args=[finished.code])
    assert said(response) == [ARCHIVED]
    assert Take.objects.count() == 1


def test_variations_view_says_the_project_is_archived(as_bob, project, finished):
    archive(project)
    response = as_bob.post(
        reverse("take_variations", args=[finished.code]), {"count": "3"}, follow=True
    )
    assert said(response) == [ARCHIVED]
    assert Take.objects.count() == 1


def test_send_again_view_says_the_project_is_archived(as_bob, project, uncertain):
    archive(project)
    response = as_bob.post(
        reverse("take_send_again", args=[uncertain.code]), {"confirm": "yes"}, follow=True
    )
    assert said(response) == [ARCHIVED]
    uncertain.refresh_from_db()
    assert uncertain.state == TakeState.UNCERTAIN


def test_remix_form_says_the_project_is_archived(as_bob, project, clip, finished):
    archive(project)
    url = reverse("take_new", args=[clip.code]) + f"?from={finished.code}"
    response = as_bob.get(url, follow=True)
    assert said(response) == [ARCHIVED]
    response = as_bob.post(
        url, {"prompt": "clay", "start": "0", "length": "3", "resolution": "720P"}, follow=True
    )
    assert said(response) == [ARCHIVED]
    assert Take.objects.count() == 1


def test_take_page_offers_no_new_takes_in_an_archived_project(as_bob, project, finished):
    page = as_bob.get(reverse("take_detail", args=[finished.code])).content.decode()
    assert "Run again" in page and "variations ·" in page and "?from=" in page
    archive(project)
    page = as_bob.get(reverse("take_detail", args=[finished.code])).content.decode()
    assert "Run again" not in page and "variations ·" not in page and "?from=" not in page
    assert "This project is archived: restore it on the project page to make new takes" in page


def test_uncertain_take_in_an_archived_project_offers_only_adoption(as_bob, project, uncertain):
    archive(project)
    page = as_bob.get(reverse("take_detail", args=[uncertain.code])).content.decode()
    assert f'action="/k/{uncertain.code}/adopt/"' in page  # nothing paid: still offered
    assert f'action="/k/{uncertain.code}/send-again/"' not in page
    assert "restore it on the project page to send it again" in page
