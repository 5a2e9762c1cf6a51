from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership, Role, Team
from studio.models import Project
from tests.conftest import client_for, join

pytestmark = pytest.mark.django_db


def test_create_team_makes_owner_and_switches(as_alice, alice):
    response = as_alice.post(reverse("team_list"), {"name": "  Night Crew "})
    team = Team.objects.get(name="Night Crew")
    assert response.url == reverse("team_detail", args=[team.code])
    assert Membership.objects.get(team=team, user=alice).role == Role.OWNER
    alice.refresh_from_db()
    assert alice.current_team == team


def test_create_team_needs_a_name(as_alice):
    response = as_alice.post(reverse("team_list"), {"name": "   "})
    assert response.status_code == 200
    assert "field-invalid" in response.content.decode()


def test_switch_team(as_bob, bob, team):
    personal = Team.objects.get(memberships__user=bob, personal=True)
    bob.current_team = personal
    bob.save(update_fields=["current_team"])
    response = as_bob.post(reverse("team_switch"), {"team": team.code})
    assert response.url == reverse("team_detail", args=[team.code])
    bob.refresh_from_db()
    assert bob.current_team == team


def test_switch_to_foreign_team_is_404(as_dave, team):
    assert as_dave.post(reverse("team_switch"), {"team": team.code}).status_code == 404


def test_nav_lists_teams_and_marks_current(as_bob, team):
    body = as_bob.get(reverse("team_detail", args=[team.code])).content.decode()
    assert f'<option value="{team.code}" selected>' in body
    assert "Bob&#x27;s studio" in body


def test_rename_team_owner_only(as_alice, as_bob, team):
    assert as_bob.post(reverse("team_settings", args=[team.code]), {"name": "X"}).status_code == 403
    as_alice.post(reverse("team_settings", args=[team.code]), {"name": "Southwind"})
    team.refresh_from_db()
    assert team.name == "Southwind"


def test_owner_changes_role(as_alice, bob, team):
    member = Membership.objects.get(user=bob, team=team)
    as_alice.post(reverse("member_role", args=[team.code, member.code]), {"role": "viewer"})
    member.refresh_from_db()
    assert member.role == Role.VIEWER


def test_invalid_role_is_rejected(as_alice, bob, team):
    member = Membership.objects.get(user=bob, team=team)
    response = as_alice.post(
        reverse("member_role", args=[team.code, member.code]), {"role": "god"}, follow=True
    )
    assert "Choose owner, editor or viewer" in response.content.decode()
    member.refresh_from_db()
    assert member.role == Role.EDITOR


def test_last_owner_cannot_be_demoted_or_leave(as_alice, alice, owner_membership, team):
    response = as_alice.post(
        reverse("member_role", args=[team.code, owner_membership.code]),
        {"role": "editor"},
        follow=True,
    )
    assert "at least one owner" in response.content.decode()
    response = as_alice.post(reverse("team_leave", args=[team.code]), follow=True)
    assert "last owner cannot leave" in response.content.decode()
    owner_membership.refresh_from_db()
    assert owner_membership.role == Role.OWNER


def test_second_owner_lets_first_leave(as_alice, alice, bob, team):
    Membership.objects.filter(user=bob, team=team).update(role=Role.OWNER)
    response = as_alice.post(reverse("team_leave", args=[team.code]))
    assert response.url == reverse("home")
    assert not Membership.objects.filter(user=alice, team=team).exists()


def test_owner_removes_member(as_alice, bob, team):
    member = Membership.objects.get(user=bob, team=team)
    as_alice.post(reverse("member_remove", args=[team.code, member.code]))
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert client_for(bob).get(reverse("team_detail", args=[team.code])).status_code == 404


def test_member_leaves(as_carol, carol, team):
    assert as_carol.post(reverse("team_leave", args=[team.code])).url == reverse("home")
    assert not Membership.objects.filter(user=carol, team=team).exists()


def test_member_of_other_team_cannot_be_targeted(as_alice, dave, team):
    other = Team.objects.create(name="Other")
    foreign = join(dave, other, Role.OWNER)
    response = as_alice.post(reverse("member_remove", args=[team.code, foreign.code]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_editor_creates_project_viewer_cannot(as_bob, as_carol, team):
    response = as_bob.post(reverse("project_new", args=[team.code]), {"name": "Spring ad"})
    project = Project.objects.get(name="Spring ad")
    assert response.url == reverse("project_detail", args=[project.code])
    assert as_carol.post(reverse("project_new", args=[team.code]), {"name": "x"}).status_code == 403


def test_project_form_errors(as_bob, team):
    response = as_bob.post(reverse("project_new", args=[team.code]), {"name": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_viewer_sees_no_editor_controls(as_bob, as_carol, team, project):
    for client, visible in ((as_bob, True), (as_carol, False)):
        team_page = client.get(reverse("team_detail", args=[team.code])).content.decode()
        project_page = client.get(reverse("project_detail", args=[project.code])).content.decode()
        assert ("data-editor-controls" in team_page) is visible
        assert ("data-editor-controls" in project_page) is visible


def test_project_settings(as_bob, project):
    as_bob.post(
        reverse("project_settings", args=[project.code]), {"name": "Teaser", "description": "cut 2"}
    )
    project.refresh_from_db()
    assert (project.name, project.description) == ("Teaser", "cut 2")
