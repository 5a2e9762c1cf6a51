"""The only way views reach team-owned objects.

Outsiders get 404 (so they cannot even learn that an object exists); members whose role is
too low for the action get 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404

from accounts.models import NEED_RANK, Membership, Team, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def membership_for(user: User | AnonymousUser, team: Team | int) -> Membership | None:
    if not user.is_authenticated:
        return None
    team_id = team.pk if isinstance(team, Team) else team
    return Membership.objects.filter(team_id=team_id, user_id=user.pk).first()


def require(membership: Membership | None, need: str) -> Membership:
    """Return the membership if it allows `need`; 404 for no membership, 403 for too low a role."""
    if need not in NEED_RANK:
        raise ValueError(f"unknown access level {need!r}")
    if membership is None:
        raise Http404("No such item.")
    if not membership.allows(need):
        raise PermissionDenied(f"Your role in {membership.team.name} does not allow this.")
    return membership


def get_team_for_user(user: User | AnonymousUser, code: str, *, need: str = "view") -> Membership:
    """Return the user's membership of the team with this code (membership.team is the team)."""
    membership = (
        Membership.objects.select_related("team").filter(team__code=code, user_id=user.pk).first()
        if user.is_authenticated
        else None
    )
    return require(membership, need)


def get_for_user[M: models.Model](
    user: User | AnonymousUser,
    queryset: models.QuerySet[M],
    *,
    need: str = "view",
    team_path: str = "team",
    **lookup: Any,
) -> tuple[M, Membership]:
    """Fetch one team-owned object by `lookup` and check the user's role in its team.

    `team_path` is the ORM path from the object to its team (e.g. "project__team").
    """
    try:
        obj = queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, ValidationError):
        raise Http404("No such item.") from None
    *path, last = team_path.split("__")
    holder: Any = obj
    for part in path:
        holder = getattr(holder, part)
    membership = membership_for(user, getattr(holder, f"{last}_id"))
    return obj, require(membership, need)


def require_administrator(user: User | AnonymousUser) -> User:
    """The user, when they administer this Cutroom (an active staff account); 404 for
    everyone else, signed out too, as for a team one is not in."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise Http404("No such page.")
    return user
