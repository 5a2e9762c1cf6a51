"""Users, teams, memberships and invitations."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from accounts.addresses import email_lookup, email_normalise

if TYPE_CHECKING:
    from django.db.models import QuerySet


def _team_code() -> str:
    return secrets.token_urlsafe(8)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        # AddressRefused (a ValueError) for an address that would pass for another one.
        user = self.model(email=email_normalise(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Addresses are stored normalised (accounts/addresses.py), so sign-in ignores case and
        # look-alike spellings; an account stored before that is found as typed.
        for email in email_lookup(username or ""):
            user = self.filter(email__iexact=email).first()
            if user is not None:
                return user
        raise self.model.DoesNotExist("No account uses this e-mail address.")


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # When the address was proven: the mailed sign-up link was followed, or an administrator
    # approved the account. Empty for accounts made otherwise (invitations without mail, scripts).
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # A sign-up at the chosen domains that could not be proven (no mail): the account is
    # inactive, with no team, until an administrator approves or refuses it.
    awaiting_approval_since = models.DateTimeField(null=True, blank=True)
    current_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []  # e-mail and password only

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


# What each role may do, for people (the members page, invitations); a role includes everything
# below it. Viewers comment and reply at a frame, with drawings, and download (need "view");
# review status, resolving and hiding comments and share links need "edit".
ROLE_WORDS = {
    Role.OWNER: "do everything editors do, and manage the team: members, invitations, roles, "
    "budgets and the team's name.",
    Role.EDITOR: "upload clips, make takes and cuts, set review status, resolve and hide "
    "comments, and make share and review links; and everything viewers do.",
    Role.VIEWER: "watch every project's clips, takes and cuts, comment at a frame (with "
    "drawings), reply, and download files and comments. They cannot upload, make takes, set "
    "review status or share links.",
}
ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.OWNER: 3}
NEED_RANK = {"view": 1, "edit": 2, "own": 3}


def _money(**extra: Any) -> models.DecimalField[Any, Any]:
    """A monthly budget in USD; None means no limit."""
    return models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True, **extra)


class Team(models.Model):
    code = models.CharField(max_length=16, unique=True, default=_team_code, editable=False)
    name = models.CharField(max_length=80)
    personal = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Governance (docs/governance.md "Budgets", docs/takes.md "Admission: fair turns"). The
    # owners set the team's monthly budget; the instance administrator may cap it, limit its
    # takes at the provider, or suspend it.
    budget_usd = _money()
    cap_usd = _money()
    max_active = models.PositiveSmallIntegerField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=300, blank=True)
    # Fair turns: when a take of this team was last let through to the provider.
    last_admitted_at = models.DateTimeField(null=True, blank=True)
    # Provenance (docs/accounts.md "Content credentials and AI labels"), set by the owners. Both
    # are off until they choose: a prompt can be private, and a label changes the picture.
    credentials_prompts = models.BooleanField(default=False)  # prompts in the C2PA manifests
    ai_label_downloads = models.BooleanField(default=False)  # "AI-generated" burnt into files
    members = models.ManyToManyField(User, through="Membership", related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def owners(self) -> QuerySet[Membership]:
        return self.memberships.filter(role=Role.OWNER)

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class Membership(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    budget_usd = _money()  # this member's monthly limit within the team, set by an owner
    last_admitted_at = models.DateTimeField(null=True, blank=True)  # fair turns within the team

    class Meta:
        ordering = ["team", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    def allows(self, need: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= NEED_RANK[need]

    @property
    def can_edit(self) -> bool:
        return self.allows("edit")

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


INVITE_LIFETIME = timedelta(days=7)


def _invite_expiry() -> Any:
    return timezone.now() + INVITE_LIFETIME


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(used_at=None, revoked_at=None, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A single-use link that adds whoever opens it to a team with a role.

    Only a hash of the token is stored; the link itself is shown once, to the owner who made it.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)
    token_hash = models.CharField(max_length=64, unique=True)
    # Whom it is for: named on the page the link opens, and sent the link when mail works.
    email = models.EmailField(blank=True)
    note = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_invite_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation to {self.team} as {self.role}"

    @property
    def role_words(self) -> str:
        """What the role lets the invited person do, as a sentence starting with the role."""
        return f"{Role(self.role).label}s {ROLE_WORDS[Role(self.role)]}"

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class SignupMode(models.TextChoices):
    INVITE = "invite", "By invitation only"
    OPEN = "open", "Open to anyone"
    DOMAIN = "domain", "Open to addresses at chosen domains"


class Instance(models.Model):
    """Settings of this Cutroom that its administrator changes from the administration page.

    One row (pk 1). Empty fields fall back to the environment (STUDIO_SIGNUP,
    STUDIO_SIGNUP_DOMAINS, STUDIO_INSTANCE_BUDGET_USD).
    """

    signup = models.CharField(max_length=10, choices=SignupMode.choices, blank=True)
    signup_domains = models.CharField(max_length=500, blank=True)
    budget_usd = _money()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return "Instance settings"

    @classmethod
    def get(cls) -> Instance:
        return cls.objects.get_or_create(pk=1)[0]
