"""An account made from an invitation joins that team only (docs/accounts.md "Invitations"); a
team of one's own is an explicit step, allowed when the sign-up policy would let the person
sign up alone."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, Team, User
from accounts.services import invitation_create
from tests.conftest import PASSWORD, sign_up

pytestmark = pytest.mark.django_db

PASSWORDS = {"password1": PASSWORD, "password2": PASSWORD}


def text(response: Any) -> str:
    return response.content.decode()


def invited(client: Client, team: Team, inviter: User, role: str, email: str) -> User:
    _, token = invitation_create(team=team, role=role, created_by=inviter)
    response = sign_up(client, email, "Vic", reverse("invite_accept", args=[token]))
    assert response.url == reverse("team_detail", args=[team.code])
    return User.objects.get(email=email)


@pytest.mark.parametrize("mode", ["invite", "open"])
def test_an_invitation_signup_joins_the_inviting_team_only(client, alice, team, settings, mode):
    settings.SIGNUP = mode
    vic = invited(client, team, alice, "viewer", "vic@client.example")
    memberships = list(Membership.objects.filter(user=vic).select_related("team"))
    assert [(m.team, m.role) for m in memberships] == [(team, Role.VIEWER)]
    assert not Team.objects.filter(memberships__user=vic, personal=True).exists()
    vic.refresh_from_db()
    assert vic.current_team == team
    assert "You joined Northwind Films as viewer." in text(client.get(reverse("home"), follow=True))


def test_an_invitation_signup_without_mail_joins_only_too(client, alice, team, settings):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}
    _, token = invitation_create(team=team, role="editor", created_by=alice)
    client.post(
        reverse("signup") + f"?next={reverse('invite_accept', args=[token])}",
        {"email": "ed@client.example", "name": "Ed", **PASSWORDS},
    )
    ed = User.objects.get(email="ed@client.example")
    assert list(Membership.objects.filter(user=ed).values_list("team", "role")) == [
        (team.pk, Role.EDITOR)
    ]


def test_a_viewer_invitee_cannot_upload_or_spend_anywhere(client, alice, team, project):
    vic = invited(client, team, alice, "viewer", "vic@client.example")
    upload = client.post(
        reverse("clip_upload", args=[project.code]),
        {"file": SimpleUploadedFile("a.mp4", b"x" * 10), "upload_key": "k"},
        HTTP_ACCEPT="application/json",
    )
    assert upload.status_code == 403
    # No team of their own to upload to: sign-up is by invitation, so none can be made either.
    refused = client.post(reverse("team_list"), {"name": "My own"})
    assert refused.status_code == 403
    assert "invitation" in text(refused)
    assert not Team.objects.filter(name="My own").exists()
    owned = Membership.objects.filter(user=vic, role__in=[Role.OWNER, Role.EDITOR])
    assert not owned.exists()
    page = text(client.get(reverse("team_list")))
    assert 'action="/teams/"' not in page  # the form is not offered


def test_an_invitee_creates_a_team_of_their_own_when_signup_is_open(client, alice, team, settings):
    vic = invited(client, team, alice, "viewer", "vic@client.example")
    settings.SIGNUP = "open"
    page = text(client.get(reverse("team_list")))
    assert "Create a team of your own" in page
    response = client.post(reverse("team_list"), {"name": "Vic's own"})
    own = Team.objects.get(name="Vic's own")
    assert response.url == reverse("team_detail", args=[own.code])
    assert Membership.objects.get(team=own, user=vic).role == Role.OWNER


def test_an_invitee_with_no_team_left_is_told_what_to_do(client, alice, team):
    vic = invited(client, team, alice, "viewer", "vic@client.example")
    membership = Membership.objects.get(user=vic, team=team)
    client.post(reverse("team_leave", args=[team.code]), {"shares": "keep"})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    home = client.get(reverse("home"))
    assert home.url == reverse("team_list")
    page = text(client.get(home.url))
    assert "You are not in any team" in page and "invitation link" in page
    assert client.get(reverse("inbox")).status_code == 200
