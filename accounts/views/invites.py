"""Opening and accepting an invitation link."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import membership_for
from accounts.models import Invitation, User
from accounts.services import TeamRuleError, invitation_find, invitation_join, invitation_problem


def join_from_invitation(request: HttpRequest, invitation: Invitation, user: User) -> HttpResponse:
    """Accept the invitation for `user`, record it and go to the team.

    Raises TeamRuleError (with words for the person) when the link can no longer be used.
    """
    role = invitation_join(invitation=invitation, user=user)
    messages.success(request, f"You joined {invitation.team.name} as {role}.")
    return redirect("team_detail", code=invitation.team.code)


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_find(token)
    if invitation is None:
        return render(
            request,
            "accounts/invite.html",
            {"problem": "This invitation link is not valid. Check that you copied all of it."},
            status=404,
        )
    problem = invitation_problem(invitation)
    member = membership_for(request.user, invitation.team)
    if member is not None:
        messages.info(request, f"You are already a member of {invitation.team.name}.")
        return redirect("team_detail", code=invitation.team.code)
    if problem:
        return render(
            request,
            "accounts/invite.html",
            {"problem": problem, "invitation": invitation},
            status=410,
        )
    if request.method == "POST" and request.user.is_authenticated:
        try:
            return join_from_invitation(request, invitation, request.user)
        except TeamRuleError as error:
            return render(request, "accounts/invite.html", {"problem": str(error)}, status=410)
    return render(request, "accounts/invite.html", {"invitation": invitation})
