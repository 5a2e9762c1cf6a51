from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, User
from accounts.services import TeamRuleError, invitation_accept, invitation_create
from studio.models import Activity
from tests.conftest import client_for, sign_up

pytestmark = pytest.mark.django_db


def _invite_url(client, team, role="editor"):
    client.post(reverse("invite_create", args=[team.code]), {"role": role, "note": "for Dave"})
    body = client.get(reverse("team_members", args=[team.code])).content.decode()
    start = body.index('value="http') + len('value="')
    return body[start : body.index('"', start)]


def test_owner_creates_invite_shown_once(as_alice, team):
    url = _invite_url(as_alice, team)
    assert "/invite/" in url
    invitation = Invitation.objects.get(team=team)
    assert invitation.token_hash not in url  # only the hash is stored
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    body = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    assert url not in body


def test_editor_cannot_invite(as_bob, team):
    response = as_bob.post(reverse("invite_create", args=[team.code]), {"role": "owner"})
    assert response.status_code == 403


def test_signed_in_user_joins_with_role(as_alice, dave, team):
    path = _invite_url(as_alice, team, role="viewer").split("testserver", 1)[1]
    client = client_for(dave)
    assert "Join Northwind Films" in client.get(path).content.decode()
    response = client.post(path)
    assert response.url == reverse("team_detail", args=[team.code])
    assert Membership.objects.get(user=dave, team=team).role == Role.VIEWER
    dave.refresh_from_db()
    assert dave.current_team == team


def _signup(client, path, email="erin@example.com"):
    """Sign up from the invitation's sign-up form, through the link mailed to finish it."""
    return sign_up(client, email, next_url=path)


def test_anonymous_signs_up_from_the_link_and_joins_in_one_step(as_alice, client, team):
    path = _invite_url(as_alice, team, role="viewer").split("testserver", 1)[1]
    body = client.get(path).content.decode()
    assert f"/accounts/signup/?next={path}" in body
    form = client.get(reverse("signup") + f"?next={path}").content.decode()
    assert "also accepts the invitation" in form and "Northwind Films" in form
    response = _signup(client, path)
    assert response.url == reverse("team_detail", args=[team.code])
    membership = Membership.objects.get(team=team, user__email="erin@example.com")
    assert membership.role == Role.VIEWER
    invitation = Invitation.objects.get(team=team)
    assert invitation.used_by == membership.user and invitation.used_at is not None
    membership.user.refresh_from_db()
    assert membership.user.current_team == team
    page = client.get(response.url).content.decode()
    assert "You joined Northwind Films as viewer." in page
    assert Activity.objects.filter(team=team, verb="joined", actor=membership.user).exists()


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expired"),
        ({"revoked_at": timezone.now()}, "withdrawn"),
        ({"used_at": timezone.now()}, "already been used"),
    ],
)
def test_signup_from_a_dead_link_still_creates_the_account_when_signup_is_open(
    alice, client, team, spoil, words, settings
):
    """Invitation only (the default), a dead link lets nobody in:
    tests/accounts/test_signup_policy.py."""
    settings.SIGNUP = "open"
    invitation, token = invitation_create(team=team, role="editor", created_by=alice)
    path = reverse("invite_accept", args=[token])
    Invitation.objects.filter(pk=invitation.pk).update(**spoil)
    assert words in client.get(reverse("signup") + f"?next={path}").content.decode()
    response = _signup(client, path)
    assert response.url == reverse("home")
    erin = User.objects.get(email="erin@example.com")
    assert not Membership.objects.filter(team=team, user=erin).exists()
    assert Membership.objects.get(user=erin).team.personal
    page = client.get(response.url, follow=True).content.decode()
    assert "Your account was created, but you could not join Northwind Films" in page
    assert words in page


def test_link_used_between_opening_the_form_and_sending_it(alice, dave, client, team, settings):
    """The compare-and-set decides: whoever claims the link first joins, the other does not.
    (With sign-up open the other still gets an account; invitation only, they do not:
    tests/accounts/test_signup_policy.py.)"""
    settings.SIGNUP = "open"
    invitation, token = invitation_create(team=team, role="editor", created_by=alice)
    path = reverse("invite_accept", args=[token])
    client.get(reverse("signup") + f"?next={path}")
    invitation_accept(invitation=invitation, user=dave)
    response = _signup(client, path)
    assert response.url == reverse("home")
    assert not Membership.objects.filter(team=team, user__email="erin@example.com").exists()
    invitation.refresh_from_db()
    assert invitation.used_by == dave


def test_signup_with_other_next_is_unchanged(client, settings):
    settings.SIGNUP = "open"
    response = _signup(client, reverse("account_settings"))
    assert response.url == reverse("account_settings")


def test_invite_is_single_use(as_alice, alice, dave, carol, team):
    invitation, token = invitation_create(team=team, role="editor", created_by=alice)
    invitation_accept(invitation=invitation, user=dave)
    response = client_for(carol).get(reverse("invite_accept", args=[token]), follow=True)
    # carol is already a member; the used link sends her to the team without an error
    assert response.status_code == 200
    from tests.conftest import make_user

    frank = make_user("frank@example.com")
    response = client_for(frank).post(reverse("invite_accept", args=[token]))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert not Membership.objects.filter(user=frank, team=team).exists()


def test_expired_and_revoked_invites(as_alice, alice, dave, team):
    expired, token1 = invitation_create(team=team, role="editor", created_by=alice)
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked, token2 = invitation_create(team=team, role="editor", created_by=alice)
    as_alice.post(reverse("invite_revoke", args=[team.code, revoked.code]))
    client = client_for(dave)
    response = client.post(reverse("invite_accept", args=[token1]))
    assert response.status_code == 410 and "expired" in response.content.decode()
    response = client.post(reverse("invite_accept", args=[token2]))
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assert not Membership.objects.filter(user=dave, team=team).exists()


def test_unknown_token_is_404(client):
    response = client.get(reverse("invite_accept", args=["nope"]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_accept_rejects_stale_object(alice, dave, team):
    invitation, _ = invitation_create(team=team, role="editor", created_by=alice)
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    with pytest.raises(TeamRuleError):
        invitation_accept(invitation=invitation, user=dave)


def test_member_opening_link_does_not_consume_it(alice, bob, team):
    invitation, token = invitation_create(team=team, role="owner", created_by=alice)
    client_for(bob).post(reverse("invite_accept", args=[token]))
    invitation.refresh_from_db()
    assert invitation.used_at is None
    assert Membership.objects.get(user=bob, team=team).role == Role.EDITOR


def test_an_invitation_names_whom_it_is_for_in_which_role_by_whom(
    as_alice, team, mailoutbox, settings
):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    as_alice.post(
        reverse("invite_create", args=[team.code]),
        {"email": "dave@example.com", "role": "viewer", "note": ""},
    )
    invitation = Invitation.objects.get(team=team)
    assert invitation.email == "dave@example.com"
    [mail] = mailoutbox
    assert mail.to == ["dave@example.com"]
    assert mail.subject == "Alice invites you to Northwind Films on Cutroom"
    assert (
        "Alice invites dave@example.com to join Northwind Films on Cutroom as viewer." in mail.body
    )
    assert "Viewers watch every project's clips, takes and cuts, comment at a frame" in mail.body
    url = next(line for line in mail.body.splitlines() if "/invite/" in line)
    page = Client().get(url.split("testserver", 1)[1]).content.decode()
    assert (
        "invites <strong>dave@example.com</strong> to join <strong>Northwind Films</strong>" in page
    )
    assert (
        "Alice" in page and "badge-viewer" in page and "comment at a frame (with drawings)" in page
    )
    members = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    assert "only look" not in members and "for dave@example.com" in members
    assert "The invitation was sent to dave@example.com." in members


def test_without_mail_the_link_is_shown_and_nothing_is_sent(as_alice, team, mailoutbox, settings):
    settings.MAILERS = {"default": {"BACKEND": "accounts.mail.NoMailBackend"}}
    as_alice.post(
        reverse("invite_create", args=[team.code]), {"email": "dave@example.com", "role": "editor"}
    )
    members = as_alice.get(reverse("team_members", args=[team.code])).content.decode()
    assert "/invite/" in members and "was sent" not in members and mailoutbox == []
    bad = as_alice.post(
        reverse("invite_create", args=[team.code]), {"email": "not an address", "role": "editor"}
    )
    assert Invitation.objects.count() == 1 and bad.status_code == 302
