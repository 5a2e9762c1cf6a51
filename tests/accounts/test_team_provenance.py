"""A team's provenance options (issue 24), on its settings page: whether content credentials
include prompts, and whether downloads and exports carry a visible AI label. Both are off until
an owner turns them on; nobody else may."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from accounts.models import Team

pytestmark = pytest.mark.django_db

PROMPTS = "Include prompts in content credentials"
LABEL = "Burn a visible AI-generated label into downloads and exports"


def _url(team: Team) -> str:
    return reverse("team_provenance", args=[team.code])


def _checked(html: str, name: str) -> bool:
    box = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    assert box, name
    return " checked" in box[0]


def test_both_are_off_by_default_and_explained_to_the_owner(team, as_alice):
    assert (team.credentials_prompts, team.ai_label_downloads) == (False, False)
    html = unescape(as_alice.get(reverse("team_settings", args=[team.code])).content.decode())
    assert PROMPTS in html and LABEL in html
    assert "Prompts can be private" in html  # why it is off
    assert not _checked(html, "credentials_prompts")
    assert not _checked(html, "ai_label_downloads")
    assert f'action="{_url(team)}"' in html


def test_an_owner_turns_them_on_and_off(team, as_alice):
    response = as_alice.post(_url(team), {"credentials_prompts": "on", "ai_label_downloads": "on"})
    assert response.status_code == 302
    assert response["Location"] == reverse("team_settings", args=[team.code])
    team.refresh_from_db()
    assert (team.credentials_prompts, team.ai_label_downloads) == (True, True)
    page = as_alice.get(response["Location"]).content.decode()
    assert "Content credential settings saved." in page
    assert _checked(page, "credentials_prompts") and _checked(page, "ai_label_downloads")
    # An unticked box is off: a form posted without it turns it off.
    as_alice.post(_url(team), {"ai_label_downloads": "on"})
    team.refresh_from_db()
    assert (team.credentials_prompts, team.ai_label_downloads) == (False, True)


@pytest.mark.parametrize(
    ("client", "status"), [("as_bob", 403), ("as_carol", 403), ("as_dave", 404)]
)
def test_editors_and_viewers_are_refused_and_outsiders_find_nothing(request, team, client, status):
    as_someone = request.getfixturevalue(client)
    on = {"credentials_prompts": "on", "ai_label_downloads": "on"}
    assert as_someone.post(_url(team), on).status_code == status
    team.refresh_from_db()
    assert (team.credentials_prompts, team.ai_label_downloads) == (False, False)


def test_only_a_post_changes_them(team, as_alice):
    assert as_alice.get(_url(team)).status_code == 405
