"""Operations on users, teams and memberships that span more than one row."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.addresses import email_lookup
from accounts.history import links_phrase, member_share_links, revoke_share_links, team_history
from accounts.mail import can_send_mail
from accounts.models import (
    Instance,
    Invitation,
    Membership,
    Role,
    SignupMode,
    Team,
    User,
    hash_token,
)

logger = logging.getLogger(__name__)


class TeamRuleError(Exception):
    """A request that breaks a team rule (such as removing the last owner).

    The message is written for the person who made the request.
    """


class SignupClosed(Exception):
    """Sign-up does not let this address in (docs/governance.md "Who may join"); nothing was
    made or sent.

    The message is written for the person signing up: it says how to get in, and names no one.
    """


# -- who may join -----------------------------------------------------------------------------
ASK_FOR_INVITATION = (
    "To join, ask an owner of the team you are joining for an invitation link: opening it "
    "lets you create your account."
)
# One domain as typed by an administrator: letters, digits and hyphens in dot-separated labels,
# ending in a name (not a number). Matched exactly against the part of an address after the @.
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+(?!-)[a-z][a-z0-9-]{0,62}(?<!-)$"
)


def signup_domains_parse(text: str) -> list[str]:
    """The domains in `text` (separated by commas, spaces or lines), lower-cased, without a
    leading @, each once. ValueError names the ones that are not domains."""
    found: list[str] = []
    bad: list[str] = []
    for item in re.split(r"[\s,;]+", text.strip()):
        domain = item.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            bad.append(item)
        elif domain not in found:
            found.append(domain)
    if bad:
        raise ValueError(", ".join(bad))
    return found


def _domains_said(domains: list[str] | tuple[str, ...]) -> str:
    names = [f"@{d}" for d in domains]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


@dataclass(frozen=True)
class SignupPolicy:
    """Who may make an account right now, without an invitation."""

    mode: str  # a SignupMode value
    domains: tuple[str, ...]  # for SignupMode.DOMAIN
    first: bool  # no account exists: the first one may always be made, and administers
    from_environment: bool  # the mode is STUDIO_SIGNUP's, not the administration page's

    @property
    def open_to_some(self) -> bool:
        """Whether anyone without an invitation may sign up (so pages may offer it)."""
        return (
            self.first
            or self.mode == SignupMode.OPEN
            or (self.mode == SignupMode.DOMAIN and bool(self.domains))
        )

    @property
    def domains_said(self) -> str:
        return _domains_said(self.domains)

    def admits(self, email: str) -> bool:
        """Whether `email` may sign up without an invitation: exact domain, any case."""
        if self.first or self.mode == SignupMode.OPEN:
            return True
        domain = email.rsplit("@", 1)[-1].strip().lower()
        return self.mode == SignupMode.DOMAIN and domain in self.domains

    def needs_approval(self, *, address_proven: bool) -> bool:
        """Whether an account this policy admits by its address's domain waits for an
        administrator: its address is the whole credential, so unless the mailed link proved
        it, anyone could sign up as someone@that-domain."""
        return self.mode == SignupMode.DOMAIN and not self.first and not address_proven

    def refusal(self, email: str) -> str:
        """Why `email` may not sign up without an invitation, for the person typing it."""
        if self.mode == SignupMode.DOMAIN and self.domains:
            return (
                "Sign-up on this Cutroom is open to addresses ending in "
                f"{self.domains_said} only. Use such an address, or ask an owner of the team "
                "you are joining for an invitation link: opening it lets you create your account."
            )
        return f"Sign-up on this Cutroom is by invitation only. {ASK_FOR_INVITATION}"

    def refusal_for(self, email: str, invitation: Invitation | None) -> str:
        """Why `email` may not make an account now ("" when it may). A usable invitation
        always lets its holder in; one that can no longer be used does not."""
        if self.admits(email):
            return ""
        if invitation is None:
            return self.refusal(email)
        problem = invitation_problem(invitation)
        return f"{problem} {self.refusal(email)}" if problem else ""


def signup_policy() -> SignupPolicy:
    """The sign-up policy in force: the administration page's choice (the Instance row), else
    STUDIO_SIGNUP and STUDIO_SIGNUP_DOMAINS."""
    instance = Instance.objects.filter(pk=1).first()
    mode = instance.signup if instance and instance.signup else settings.SIGNUP
    chosen = instance.signup_domains if instance else ""
    try:
        domains = signup_domains_parse(chosen) if chosen else list(settings.SIGNUP_DOMAINS)
    except ValueError:  # saved only through the form, which checks; never trust it blindly
        domains = []
    return SignupPolicy(
        mode=mode,
        domains=tuple(domains),
        first=not User.objects.exists(),
        from_environment=not (instance and instance.signup),
    )


def signup_refusal(*, email: str, invitation: Invitation | None = None) -> str:
    """Why `email` may not make an account now, for the person ("" when it may)."""
    return signup_policy().refusal_for(email, invitation)


def _instance_lock() -> None:
    """Serialise sign-ups and administrator changes until the transaction ends: a row lock on
    the instance's settings (PostgreSQL), the database's write lock (SQLite), so two first
    sign-ups at once cannot both find the instance empty."""
    Instance.get()
    Instance.objects.select_for_update().filter(pk=1).update(updated_at=timezone.now())


def user_signup(
    *,
    email: str,
    password: str,
    name: str = "",
    invitation: Invitation | None = None,
    address_proven: bool = False,
) -> User:
    """Sign up: create a user; the sign-up policy decides first (SignupClosed when it refuses;
    nothing is made). The first account on a fresh instance may always be made, and becomes
    the instance's administrator.

    - A usable invitation is accepted in the same transaction, and the account joins that team
      only: no personal team (a link used by someone else meanwhile makes no account either,
      unless the policy admits the address on its own).
    - Otherwise the account gets its personal team, which becomes the current team; except a
      domain sign-up whose address is not proven (`address_proven`: the mailed link was
      followed), which is held inactive, with no team, for an administrator's approval.
    """
    with transaction.atomic():
        _instance_lock()
        policy = signup_policy()
        if problem := policy.refusal_for(email, invitation):
            raise SignupClosed(problem)
        user = User.objects.create_user(email=email, password=password, name=name)
        joined = False
        if invitation is not None and invitation_problem(invitation) is None:
            try:
                invitation_accept(invitation=invitation, user=user)
                joined = True
            except TeamRuleError as error:  # used or withdrawn a moment ago
                if not policy.admits(email):  # it was what let them in: undo the account
                    raise SignupClosed(f"{error} {policy.refusal(email)}") from error
        held = not joined and policy.needs_approval(address_proven=address_proven)
        if address_proven or held:
            user.email_confirmed_at = timezone.now() if address_proven else None
            user.awaiting_approval_since = timezone.now() if held else None
            user.is_active = not held
            user.save(update_fields=["email_confirmed_at", "awaiting_approval_since", "is_active"])
        if held:
            logger.info("Account #%s waits for an administrator's approval.", user.pk)
        elif not joined:
            _personal_team_make(user)
        _administrator_ensure(user)
    return user


def account_create(*, email: str, password: str | None, name: str = "") -> User:
    """An account with its personal team, outside sign-up and its policy: for the operator's
    scripts and the tests. Like a sign-up, it administers the instance when nobody does."""
    with transaction.atomic():
        _instance_lock()
        user = User.objects.create_user(email=email, password=password, name=name)
        _personal_team_make(user)
        _administrator_ensure(user)
    return user


def _personal_team_make(user: User) -> Team:
    team = team_create(owner=user, name=f"{user.display_name}'s studio", personal=True)
    user.current_team = team
    user.save(update_fields=["current_team"])
    return team


def _administrator_ensure(user: User) -> None:
    promoted = administrator_ensure()
    if promoted is not None and promoted.pk == user.pk:
        user.is_staff = user.is_superuser = True


# -- accounts held for approval (domain sign-up without mail) ---------------------------------
def accounts_awaiting_approval() -> list[User]:
    return list(
        User.objects.filter(is_active=False, awaiting_approval_since__isnull=False).order_by(
            "awaiting_approval_since", "pk"
        )
    )


def _held(email: str) -> User:
    user = _account_by_email(email, is_active=False, awaiting_approval_since__isnull=False)
    if user is None:
        raise TeamRuleError("No account with this e-mail waits for approval (any more).")
    return user


def account_approve(*, email: str, actor: User) -> User:
    """Let a held account in: active, with its personal team; the administrator vouches for
    its address."""
    with transaction.atomic():
        _instance_lock()
        user = _held(email)
        user.is_active = True
        user.awaiting_approval_since = None
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["is_active", "awaiting_approval_since", "email_confirmed_at"])
        _personal_team_make(user)
    logger.info("Account #%s approved account #%s.", actor.pk, user.pk)
    return user


def account_refuse(*, email: str, actor: User) -> str:
    """Delete a held account (it has no team and nothing else), so the address is free for its
    real owner; the address, for the page."""
    with transaction.atomic():
        _instance_lock()
        user = _held(email)
        address, pk = user.email, user.pk
        user.delete()
    logger.info("Account #%s refused held account #%s.", actor.pk, pk)
    return address


def _account_by_email(email: str, **filters: Any) -> User | None:
    """The account this address means (its one spelling first, then as typed), among those
    matching `filters`."""
    for spelling in email_lookup(email):
        user = User.objects.filter(email__iexact=spelling, **filters).first()
        if user is not None:
            return user
    return None


# -- the instance's administrators ------------------------------------------------------------
def administrators() -> list[User]:
    """The active accounts that administer this Cutroom, earliest first."""
    return list(User.objects.filter(is_staff=True, is_active=True).order_by("date_joined", "pk"))


def administrator_ensure() -> User | None:
    """When no active account administers this Cutroom, make the earliest active account the
    administrator; returns it (None when nothing changed). The first sign-up on a fresh
    instance, an instance migrated from before administrators, and `migrate` after the last
    administrator was deactivated all come through here."""
    if User.objects.filter(is_staff=True, is_active=True).exists():
        return None
    earliest = User.objects.filter(is_active=True).order_by("date_joined", "pk").first()
    if earliest is None:
        return None
    User.objects.filter(pk=earliest.pk).update(is_staff=True, is_superuser=True)
    earliest.is_staff = earliest.is_superuser = True
    logger.info("The earliest account (#%s) now administers this Cutroom.", earliest.pk)
    return earliest


def administrator_grant(*, email: str, actor: User) -> User:
    """Make the active account with this e-mail an administrator of this Cutroom."""
    with transaction.atomic():
        _instance_lock()
        user = _account_by_email(email, is_active=True)
        if user is None:
            raise TeamRuleError(
                "No account uses this e-mail address. The person signs up (or is invited) first."
            )
        if user.is_staff:
            raise TeamRuleError(f"{user.display_name} already administers this Cutroom.")
        User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    logger.info("Account #%s made account #%s an administrator.", actor.pk, user.pk)
    return user


def administrator_revoke(*, email: str, actor: User) -> User:
    """Stop the account with this e-mail administering this Cutroom; never the last one."""
    with transaction.atomic():
        _instance_lock()
        user = _account_by_email(email, is_staff=True)
        if user is None:
            raise TeamRuleError("That account does not administer this Cutroom.")
        others = User.objects.filter(is_staff=True, is_active=True).exclude(pk=user.pk)
        if user.is_active and not others.exists():
            raise TeamRuleError(
                "This Cutroom needs an administrator. Make someone else an administrator first."
            )
        User.objects.filter(pk=user.pk).update(is_staff=False, is_superuser=False)
    logger.info("Account #%s removed account #%s as an administrator.", actor.pk, user.pk)
    return user


def instance_signup_set(*, mode: str, domains: list[str], actor: User) -> Instance:
    """Set who may sign up, from the administration page; it wins over the environment."""
    with transaction.atomic():
        _instance_lock()
        instance = Instance.objects.get(pk=1)
        instance.signup = SignupMode(mode)
        instance.signup_domains = ", ".join(domains)
        instance.updated_by = actor
        instance.updated_at = timezone.now()
        instance.save(update_fields=["signup", "signup_domains", "updated_by", "updated_at"])
    logger.info("Account #%s set sign-up to %s.", actor.pk, mode)
    return instance


SIGNUP_LINK_DAYS = 3
_SIGNUP_SALT = "accounts.signup"


def signup_request(
    *, email: str, name: str, next_url: str, site: str, invitation: Invitation | None = None
) -> None:
    """Mail the next step of a sign-up to `email`; the page says only "check your inbox".

    A new address gets a link to choose a password; the account is made when it is used, so
    nobody can make an account on an address they cannot read. An address that has an
    account gets a note on how to sign in instead. Whoever typed the address learns nothing.
    `site` is the scheme and host the links start with. SignupClosed, and no mail, when the
    sign-up policy refuses the address (which depends on the address alone, never on
    whether it has an account); the link is checked again when it is used.
    """
    if problem := signup_refusal(email=email, invitation=invitation):
        raise SignupClosed(problem)
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


def team_create_refusal(*, user: User) -> str:
    """Why `user` may not make a team of their own ("" when they may).

    A team of one's own is where one uploads and spends, so it is what the sign-up policy
    guards: whoever could sign up alone now may make one (at the chosen domains, with an
    address the mailed link or an administrator proved), and so may administrators and anyone
    who already owns a team. Someone who came in through an invitation otherwise works only in
    the teams that invited them.
    """
    if user.is_staff or user.memberships.filter(role=Role.OWNER).exists():
        return ""
    policy = signup_policy()
    if policy.admits(user.email) and not (
        policy.needs_approval(address_proven=user.email_confirmed_at is not None)
    ):
        return ""
    if policy.mode == SignupMode.DOMAIN and policy.admits(user.email):
        return (
            "Making a team of your own needs a confirmed address, and this Cutroom could not "
            "confirm yours (it cannot send e-mail). Ask an administrator of this Cutroom to make "
            "a team for you, or work in the teams that invited you."
        )
    if policy.mode == SignupMode.DOMAIN:
        rule = f"sign-up is open to addresses ending in {policy.domains_said} only"
    else:
        rule = "sign-up is by invitation only"
    return (
        f"On this Cutroom {rule}, so new teams are made by its administrators and by team "
        "owners; you work in the teams that invite you. Ask an administrator of this Cutroom "
        "if you need a team of your own."
    )


def team_rename(*, team: Team, name: str) -> Team:
    team.name = name.strip()
    team.save(update_fields=["name"])
    return team


def team_provenance_set(*, team: Team, credentials_prompts: bool, ai_label_downloads: bool) -> Team:
    """The owners' provenance options (accounts.forms.TeamProvenanceForm says what they do)."""
    team.credentials_prompts = credentials_prompts
    team.ai_label_downloads = ai_label_downloads
    team.save(update_fields=["credentials_prompts", "ai_label_downloads"])
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
    *, team: Team, role: str, created_by: User, note: str = "", email: str = ""
) -> tuple[Invitation, str]:
    """Create an invitation (for `email`, when given) and return it with its token; only the
    token's hash is stored."""
    token = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        team=team,
        role=Role(role),
        token_hash=hash_token(token),
        created_by=created_by,
        email=email.strip(),
        note=note.strip(),
    )
    return invitation, token


def invitation_mail(*, invitation: Invitation, url: str) -> bool:
    """Send the invitation's link to the address it is for: whom it is from, for which team,
    in which role and what that role does. False when it names no address or no mail can be
    sent (the owner passes the link on)."""
    if not invitation.email or not can_send_mail():
        return False
    context = {
        "invitation": invitation,
        "url": url,
        "inviter": invitation.created_by.display_name if invitation.created_by else "An owner",
        "days": max(1, (invitation.expires_at - timezone.now()).days),
    }
    subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
    body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, None, [invitation.email])
    return True


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


def invitation_join(*, invitation: Invitation, user: User) -> str:
    """Accept the invitation for `user` and record it in the team history; the role, in words.

    Raises TeamRuleError (with words for the person) when the link can no longer be used.
    """
    invitation_accept(invitation=invitation, user=user)
    role = invitation.get_role_display().lower()
    team_history(invitation.team, user, "joined", f"joined the team as {role}")
    return role


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
