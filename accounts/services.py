"""Operations on users, teams and memberships that span more than one row."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.history import links_phrase, member_share_links, revoke_share_links, team_history
from accounts.models import Invitation, Membership, Role, Team, User, hash_token


class TeamRuleError(Exception):
    """A request that breaks a team rule (such as removing the last owner).

    The message is written for the person who made the request.
    """


def user_signup(*, email: str, password: str, name: str = "") -> User:
    """Create a user together with their personal team, which becomes the current team."""
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, name=name)
        team = team_create(owner=user, name=f"{user.display_name}'s studio", personal=True)
        user.current_team = team
        user.save(update_fields=["current_team"])
    return user


SIGNUP_LINK_DAYS = 3
_SIGNUP_SALT = "accounts.signup"


def signup_request(*, email: str, name: str, next_url: str, site: str) -> None:
    """Mail the next step of a sign-up to `email`; the page says only "check your inbox".

    A new address gets a link to choose a password; the account is made when it is used, so
    nobody can make an account on an address they cannot read. An address that has an
    account gets a note on how to sign in instead. Whoever typed the address learns nothing.
    `site` is the scheme and host the links start with.
    """
    if User.objects.filter(email__iexact=email).exists():
        context: dict[str, Any] = {
            "email": email,
            "login_url": site + reverse("login"),
            "reset_url": site + reverse("password_reset"),
        }
        template = "accounts/email/signup_exists"
    else:
        token = signing.dumps(
            {"email": email, "name": name, "next": next_url}, salt=_SIGNUP_SALT, compress=True
        )
        context = {
            "email": email,
            "finish_url": site + reverse("signup_finish", args=[token]),
            "days": SIGNUP_LINK_DAYS,
        }
        template = "accounts/email/signup_finish"
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    send_mail(subject, render_to_string(f"{template}.txt", context), None, [email])


def signup_link_read(token: str) -> dict[str, str] | None:
    """What a sign-up link carries (email, name, next), or None when it is not valid or old."""
    try:
        data = signing.loads(token, salt=_SIGNUP_SALT, max_age=timedelta(days=SIGNUP_LINK_DAYS))
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("email"), str):
        return None
    return {key: str(data.get(key) or "") for key in ("email", "name", "next")}


def team_create(*, owner: User, name: str, personal: bool = False) -> Team:
    with transaction.atomic():
        team = Team.objects.create(name=name.strip(), personal=personal)
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    return team


def team_rename(*, team: Team, name: str) -> Team:
    team.name = name.strip()
    team.save(update_fields=["name"])
    return team


def team_switch(*, user: User, team: Team) -> None:
    if user.current_team_id == team.pk:
        return
    user.current_team = team
    user.save(update_fields=["current_team"])


def current_team_for(user: User) -> Team | None:
    """The team the user last switched to, or their first team if that one is gone."""
    if user.current_team_id and user.memberships.filter(team_id=user.current_team_id).exists():
        return user.current_team
    membership = user.memberships.select_related("team").order_by("-team__personal", "pk").first()
    if membership is None:
        return None
    team_switch(user=user, team=membership.team)
    return membership.team


def invitation_create(
    *, team: Team, role: str, created_by: User, note: str = ""
) -> tuple[Invitation, str]:
    """Create an invitation and return it with its token; only the token's hash is stored."""
    token = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        team=team,
        role=Role(role),
        token_hash=hash_token(token),
        created_by=created_by,
        note=note.strip(),
    )
    return invitation, token


def invitation_find(token: str) -> Invitation | None:
    return Invitation.objects.select_related("team").filter(token_hash=hash_token(token)).first()


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Join the invitation's team. The invitation is consumed by this one user, exactly once."""
    with transaction.atomic():
        existing = Membership.objects.filter(team=invitation.team, user=user).first()
        if existing is not None:
            # Opening a link to a team one already belongs to must not burn the link.
            return existing
        # Compare-and-set: of two people racing for one link, exactly one wins.
        claimed = Invitation.objects.filter(
            pk=invitation.pk, used_at=None, revoked_at=None, expires_at__gt=timezone.now()
        ).update(used_at=timezone.now(), used_by=user)
        if not claimed:
            invitation.refresh_from_db()
            raise TeamRuleError(invitation_problem(invitation) or "This invitation is not valid.")
        membership = Membership.objects.create(
            team=invitation.team, user=user, role=invitation.role
        )
        team_switch(user=user, team=invitation.team)
    return membership


def invitation_problem(invitation: Invitation) -> str | None:
    """Why the invitation can no longer be used, in words for the person holding the link."""
    return {
        "revoked": "This invitation was withdrawn by the team's owner. Ask them for a new link.",
        "used": "This invitation has already been used. Each link works once; ask for a new one.",
        "expired": "This invitation has expired (links last 7 days). Ask the team for a new one.",
    }.get(invitation.state)


def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, revoked_at=None, used_at=None).update(
        revoked_at=timezone.now()
    )


def _other_owners(membership: Membership) -> int:
    return (
        Membership.objects.filter(team_id=membership.team_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .count()
    )


def membership_change_role(*, membership: Membership, role: str) -> Membership:
    role = Role(role)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.OWNER and role != Role.OWNER and not _other_owners(membership):
            raise TeamRuleError(
                "A team needs at least one owner. Make someone else an owner first."
            )
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


SHARES_KEEP = "keep"
SHARES_REVOKE = "revoke"


def membership_remove(*, membership: Membership, actor: User, shares: str = SHARES_KEEP) -> int:
    """Remove a member (or let them leave) and keep or revoke the live share links they made of
    the team's takes, recorded in the team's history, all in one transaction.

    Returns how many live links they had made. The last owner can neither leave nor be removed.
    Someone who leaves on their own keeps their links (the default): a link already sent to a
    client should not die without an owner deciding so, and the owners see them listed.
    """
    if shares not in (SHARES_KEEP, SHARES_REVOKE):
        raise ValueError(f"shares must be {SHARES_KEEP!r} or {SHARES_REVOKE!r}, not {shares!r}")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.OWNER and not _other_owners(membership):
            raise TeamRuleError(
                "The last owner cannot leave the team. Make someone else an owner first."
            )
        user, team = membership.user, membership.team
        membership.delete()
        if user.current_team_id == team.pk:
            user.current_team = None
            user.save(update_fields=["current_team"])
        links = member_share_links(team, user)
        count = revoke_share_links(links) if shares == SHARES_REVOKE else links.count()
        left = actor.pk == user.pk
        verb, summary = (
            ("left", "left the team") if left else ("removed", f"removed {user.display_name}")
        )
        if count and shares == SHARES_REVOKE:
            summary += f" and revoked {links_phrase(count)} they made"
        elif count and left:
            works = "works" if count == 1 else "work"
            summary += (
                f"; {links_phrase(count)} they made still {works} (listed on the members page)"
            )
        elif count:
            summary += f" and kept {links_phrase(count)} they made working"
        team_history(team, actor, verb, summary)
    return count
