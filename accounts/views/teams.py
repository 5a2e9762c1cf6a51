"""Teams: list, create, switch, rename, members and invitations."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_user, get_team_for_user
from accounts.forms import InviteForm, RoleForm, TeamForm, TeamProvenanceForm
from accounts.history import (
    former_member_share_links,
    links_phrase,
    member_share_links,
    revoke_share_links,
    team_history,
)
from accounts.http import AuthenticatedHttpRequest
from accounts.models import ROLE_WORDS, Invitation, Membership
from accounts.services import (
    SHARES_KEEP,
    SHARES_REVOKE,
    TeamRuleError,
    invitation_create,
    invitation_mail,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    team_create,
    team_create_refusal,
    team_provenance_set,
    team_rename,
    team_switch,
)


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    refusal = team_create_refusal(user=request.user)
    if request.method == "POST" and refusal:
        status = 403
    elif request.method == "POST" and form.is_valid():
        team = team_create(owner=request.user, name=form.cleaned_data["name"])
        team_switch(user=request.user, team=team)
        messages.success(request, f"Team “{team.name}” created. Invite people from Members.")
        return redirect("team_detail", code=team.code)
    else:
        status = 200
    memberships = request.user.memberships.select_related("team").order_by("team__name")
    context = {"form": form, "memberships": memberships, "refusal": refusal}
    return render(request, "accounts/team_list.html", context, status=status)


@login_required
@require_POST
def team_switch_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = get_team_for_user(request.user, request.POST.get("team", ""))
    team_switch(user=request.user, team=membership.team)
    return redirect("team_detail", code=membership.team.code)


@login_required
@require_http_methods(["GET", "POST"])
def team_settings(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code, need="own")
    team = membership.team
    form = TeamForm(request.POST or None, initial={"name": team.name})
    if request.method == "POST" and form.is_valid():
        team_rename(team=team, name=form.cleaned_data["name"])
        messages.success(request, "Team renamed.")
        return redirect("team_settings", code=team.code)
    provenance = TeamProvenanceForm(
        initial={
            "credentials_prompts": team.credentials_prompts,
            "ai_label_downloads": team.ai_label_downloads,
        }
    )
    context = {"team": team, "membership": membership, "form": form, "provenance": provenance}
    return render(request, "accounts/team_settings.html", context)


@login_required
@require_POST
def team_provenance(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The owners' content-credential options: two boxes, so every post is valid (an unticked
    box is off)."""
    membership = get_team_for_user(request.user, code, need="own")
    form = TeamProvenanceForm(request.POST)
    form.is_valid()
    team_provenance_set(
        team=membership.team,
        credentials_prompts=form.cleaned_data["credentials_prompts"],
        ai_label_downloads=form.cleaned_data["ai_label_downloads"],
    )
    messages.success(request, "Content credential settings saved.")
    return redirect("team_settings", code=membership.team.code)


@login_required
@require_GET
def team_members(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team = membership.team
    context = {
        "team": team,
        "membership": membership,
        "members": team.memberships.select_related("user").order_by("user__email"),
        "invite_form": InviteForm(),
        "role_words": list(ROLE_WORDS.items()),
        "invitations": team.invitations.select_related("created_by", "used_by")[:50]
        if membership.is_owner
        else [],
        # The link of an invitation is shown once, right after it was made (it is stored hashed).
        "new_invite_url": request.session.pop(f"new-invite-{team.code}", None),
    }
    if membership.is_owner:
        context["former_links"] = list(former_member_share_links(team)[:FORMER_LINKS_SHOWN])
        removing = _removal_target(membership, request.GET.get("remove", ""))
        if removing is not None:
            context["removing"] = removing
            context["removing_links"] = list(member_share_links(team, removing.user))
    return render(request, "accounts/team_members.html", context)


FORMER_LINKS_SHOWN = 200


def _removal_target(owner: Membership, code: str) -> Membership | None:
    """The member the owner is about to remove (?remove=<membership code>): another member."""
    if not code:
        return None
    try:
        uuid.UUID(code)
    except ValueError:
        return None
    return (
        Membership.objects.select_related("user")
        .filter(team_id=owner.team_id, code=code)
        .exclude(user_id=owner.user_id)
        .first()
    )


@login_required
@require_POST
def invite_create(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code, need="own")
    form = InviteForm(request.POST)
    if not form.is_valid():
        if "email" in form.errors:
            messages.error(request, "That e-mail address is not valid: no invitation was made.")
        else:
            messages.error(request, "Choose a role for the invitation.")
        return redirect("team_members", code=code)
    invitation, token = invitation_create(
        team=membership.team,
        role=form.cleaned_data["role"],
        created_by=request.user,
        note=form.cleaned_data["note"],
        email=form.cleaned_data["email"],
    )
    url = request.build_absolute_uri(reverse("invite_accept", args=[token]))
    request.session[f"new-invite-{code}"] = url
    if invitation_mail(invitation=invitation, url=url):
        messages.success(request, f"The invitation was sent to {invitation.email}.")
    return redirect("team_members", code=code)


@login_required
@require_POST
def invite_revoke(request: AuthenticatedHttpRequest, code: str, invite: str) -> HttpResponse:
    get_team_for_user(request.user, code, need="own")
    invitation, _ = get_for_user(
        request.user, Invitation.objects.filter(team__code=code), need="own", code=invite
    )
    invitation_revoke(invitation=invitation)
    messages.success(request, "Invitation revoked; its link no longer works.")
    return redirect("team_members", code=code)


@login_required
@require_POST
def member_role(request: AuthenticatedHttpRequest, code: str, member: str) -> HttpResponse:
    get_team_for_user(request.user, code, need="own")
    target, _ = get_for_user(
        request.user, Membership.objects.filter(team__code=code), need="own", code=member
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, editor or viewer.")
        return redirect("team_members", code=code)
    try:
        membership_change_role(membership=target, role=form.cleaned_data["role"])
    except TeamRuleError as error:
        messages.error(request, str(error))
    else:
        role = form.cleaned_data["role"]
        team_history(target.team, request.user, "role", f"made {target.user.display_name} {role}")
        messages.success(request, f"{target.user.display_name} is now {role}.")
    return redirect("team_members", code=code)


@login_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, code: str, member: str) -> HttpResponse:
    get_team_for_user(request.user, code, need="own")
    target, _ = get_for_user(
        request.user, Membership.objects.filter(team__code=code), need="own", code=member
    )
    name = target.user.display_name
    shares = request.POST.get("shares", "")
    live = member_share_links(target.team, target.user).count()
    if live and shares not in (SHARES_KEEP, SHARES_REVOKE):
        # Also when a link was made after the confirmation was shown: it shows them all again.
        keeps = "keeps working or stops" if live == 1 else "keep working or stop"
        messages.error(request, f"Choose whether {links_phrase(live)} {name} made {keeps} now.")
        confirm = reverse("team_members", args=[code])
        return redirect(f"{confirm}?remove={target.code}#remove-member")
    try:
        count = membership_remove(
            membership=target, actor=request.user, shares=shares or SHARES_KEEP
        )
    except TeamRuleError as error:
        messages.error(request, str(error))
        return redirect("team_members", code=code)
    note = f"{name} was removed from the team"
    if count:
        stopped = "stopped working" if shares == SHARES_REVOKE else "still work"
        if count == 1 and shares != SHARES_REVOKE:
            stopped = "still works"
        note += f"; {links_phrase(count)} they made {stopped}"
    messages.success(request, note + ".")
    if target.user_id == request.user.pk:
        return redirect("home")
    return redirect("team_members", code=code)


@login_required
@require_POST
def team_leave(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    try:
        count = membership_remove(membership=membership, actor=request.user)
    except TeamRuleError as error:
        messages.error(request, str(error))
        return redirect("team_members", code=code)
    note = f"You left {membership.team.name}."
    if count:
        works = "still works" if count == 1 else "still work"
        note += (
            f" {links_phrase(count).capitalize()} you made {works}; the team's owners can "
            "revoke them."
        )
    messages.success(request, note)
    return redirect("home")


@login_required
@require_POST
def team_former_shares_revoke(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Revoke one (link=<code>) or all (all=1) live links made by people who left the team."""
    membership = get_team_for_user(request.user, code, need="own")
    links = former_member_share_links(membership.team)
    if request.POST.get("all") != "1":
        links = links.filter(code=request.POST.get("link", ""))
    count = revoke_share_links(links)
    if count:
        made = "share link" if count == 1 else "share links"
        team_history(
            membership.team,
            request.user,
            "revoked",
            f"revoked {count} {made} made by people who left the team",
        )
        messages.success(request, f"{count} {made} stopped working.")
    else:
        messages.error(request, "That share link had already stopped working.")
    return redirect("team_members", code=code)
