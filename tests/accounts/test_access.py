"""Every branch of the access helpers, and the role matrix."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.access import get_for_user, get_team_for_user, membership_for, require
from accounts.models import Membership, Role
from studio.models import Project

pytestmark = pytest.mark.django_db

# role -> the access levels it grants
MATRIX = {
    Role.OWNER: {"view": True, "edit": True, "own": True},
    Role.EDITOR: {"view": True, "edit": True, "own": False},
    Role.VIEWER: {"view": True, "edit": False, "own": False},
}


@pytest.mark.parametrize("role", list(MATRIX))
@pytest.mark.parametrize("need", ["view", "edit", "own"])
def test_role_matrix(role, need):
    assert Membership(role=role).allows(need) is MATRIX[role][need]


def test_membership_for_anonymous_is_none(team):
    assert membership_for(AnonymousUser(), team) is None


def test_membership_for_member_and_outsider(alice, bob, dave, team):
    assert membership_for(bob, team).role == Role.EDITOR
    assert membership_for(bob, team.pk).role == Role.EDITOR
    assert membership_for(dave, team) is None


def test_require_rejects_unknown_level(owner_membership):
    with pytest.raises(ValueError):
        require(owner_membership, "admin")


def test_get_team_outsider_gets_404(dave, team):
    with pytest.raises(Http404):
        get_team_for_user(dave, team.code)


def test_get_team_anonymous_gets_404(team):
    with pytest.raises(Http404):
        get_team_for_user(AnonymousUser(), team.code)


def test_get_team_unknown_code_gets_404(alice):
    with pytest.raises(Http404):
        get_team_for_user(alice, "no-such-team")


@pytest.mark.parametrize(
    ("who", "need", "allowed"),
    [
        ("alice", "own", True),
        ("bob", "edit", True),
        ("bob", "own", False),
        ("carol", "view", True),
        ("carol", "edit", False),
    ],
)
def test_get_team_by_role(request, alice, bob, carol, team, who, need, allowed):
    user = request.getfixturevalue(who)
    if allowed:
        assert get_team_for_user(user, team.code, need=need).team == team
    else:
        with pytest.raises(PermissionDenied):
            get_team_for_user(user, team.code, need=need)


def test_get_for_user_object_branches(alice, bob, carol, dave, project):
    obj, membership = get_for_user(bob, Project.objects.all(), need="edit", code=project.code)
    assert obj == project and membership.role == Role.EDITOR
    with pytest.raises(PermissionDenied):
        get_for_user(carol, Project.objects.all(), need="edit", code=project.code)
    with pytest.raises(Http404):
        get_for_user(dave, Project.objects.all(), code=project.code)
    with pytest.raises(Http404):
        get_for_user(alice, Project.objects.all(), code="missing")


def test_get_for_user_bad_uuid_is_404(alice, team):
    with pytest.raises(Http404):
        get_for_user(alice, Membership.objects.all(), code="not-a-uuid")
    with pytest.raises(Http404):
        get_for_user(alice, Membership.objects.all(), code=uuid.uuid4())


def test_get_for_user_follows_team_path(alice, dave, team, owner_membership, project):
    # A path through a relation: a project's membership-like lookup through project__team.
    obj, _ = get_for_user(
        alice, Project.objects.all(), team_path="team", code=project.code, team=team
    )
    assert obj == project
