"""The administration page: who may sign up, the instance's budget, its administrators, and
every team with its spend, limits and suspension (docs/governance.md "The administration page").

Only for administrators (accounts.access.require_administrator): everyone else gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.access import require_administrator
from accounts.forms import (
    AdministratorForm,
    InstanceBudgetForm,
    SignupPolicyForm,
    TeamLiftForm,
    TeamLimitsForm,
    TeamSuspendForm,
)
from accounts.mail import can_send_mail
from accounts.models import Instance, SignupMode, Team, User
from accounts.services import (
    TeamRuleError,
    account_approve,
    account_refuse,
    accounts_awaiting_approval,
    administrator_grant,
    administrator_revoke,
    administrators,
    instance_signup_set,
    signup_policy,
)
from studio.core.formatting import usd
from studio.governance import administration as admin
from studio.governance.budgets import month_start

TEAMS_PER_PAGE = 20


@dataclass
class TeamRow:
    team: Any  # a Team annotated by teams_overview (spent, queued, at_provider)
    limits: TeamLimitsForm
    suspend: TeamSuspendForm
    lift: TeamLiftForm


@require_GET
def administration(request: HttpRequest) -> HttpResponse:
    require_administrator(request.user)
    return _page(request)


def _page(request: HttpRequest, status: int = 200, **bound: Any) -> HttpResponse:
    """The page; `bound` holds a form that did not validate, shown with its errors."""
    month = month_start()
    policy = signup_policy()
    instance = Instance.get()
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()[:100]
    teams = Paginator(admin.teams_overview(month=month, query=query), TEAMS_PER_PAGE)
    page = teams.get_page(request.GET.get("page") or request.POST.get("page"))
    default_active = admin.team_max_active_default()
    rows = []
    for team in page:
        limits = TeamLimitsForm(
            initial={"cap_usd": team.cap_usd, "max_active": team.max_active},
            default_active=default_active,
            prefix=f"t-{team.code}",
        )
        rows.append(
            TeamRow(
                team=team,
                limits=limits,
                suspend=TeamSuspendForm(prefix=f"t-{team.code}"),
                lift=TeamLiftForm(prefix=f"t-{team.code}"),
            )
        )
        for kind, form in bound.get("team_forms", {}).get(team.code, {}).items():
            setattr(rows[-1], kind, form)
    context = {
        "policy": policy,
        "instance": instance,
        "spend": admin.instance_spend(month=month),
        "signup_form": bound.get("signup_form")
        or SignupPolicyForm(initial={"mode": policy.mode, "domains": ", ".join(policy.domains)}),
        "budget_form": bound.get("budget_form")
        or InstanceBudgetForm(initial={"budget_usd": instance.budget_usd}),
        "admin_form": bound.get("admin_form") or AdministratorForm(),
        "administrators": administrators(),
        "mail": can_send_mail(),
        "held": accounts_awaiting_approval(),
        "rows": rows,
        "page": page,
        "query": query,
        "default_active": default_active,
        "month": month,
    }
    return render(request, "governance/administration.html", context, status=status)


def _back(request: HttpRequest, anchor: str = "") -> HttpResponse:
    """To the page as it was (its search and page of teams), at `anchor`."""
    params = {k: v for k in ("q", "page") if (v := request.POST.get(k, "").strip())}
    url = reverse("administration") + (f"?{urlencode(params)}" if params else "")
    return redirect(url + (f"#{anchor}" if anchor else ""))


@require_POST
def administration_signup(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request.user)
    form = SignupPolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, signup_form=form)
    mode, domains = form.cleaned_data["mode"], form.cleaned_data["domains"]
    instance_signup_set(mode=mode, domains=domains, actor=user)
    said = {
        SignupMode.INVITE: "by invitation only",
        SignupMode.OPEN: "open to anyone",
        SignupMode.DOMAIN: "open to addresses ending in " + signup_policy().domains_said,
    }[SignupMode(mode)]
    messages.success(request, f"Sign-up is now {said}. Invitations keep working.")
    return _back(request, "signup")


@require_POST
def administration_held_approve(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request.user)
    try:
        approved = account_approve(email=request.POST.get("email", ""), actor=user)
    except TeamRuleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{approved.email} is approved: they can sign in now, with a personal studio.",
        )
    return _back(request, "held")


@require_POST
def administration_held_refuse(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request.user)
    try:
        address = account_refuse(email=request.POST.get("email", ""), actor=user)
    except TeamRuleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"The account of {address} was refused and removed; it had no team and nothing "
            "else. The address can sign up again.",
        )
    return _back(request, "held")


@require_POST
def administration_budget(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request.user)
    form = InstanceBudgetForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, budget_form=form)
    budget = form.cleaned_data["budget_usd"]
    admin.instance_budget_set(budget=budget, actor=user)
    if budget is None:
        messages.success(
            request, "This Cutroom's monthly budget now comes from STUDIO_INSTANCE_BUDGET_USD."
        )
    else:
        messages.success(request, f"This Cutroom's monthly budget is now {usd(budget)}.")
    return _back(request, "budget")


@require_POST
def administrator_add(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request.user)
    form = AdministratorForm(request.POST)
    if form.is_valid():
        try:
            made = administrator_grant(email=form.cleaned_data["email"], actor=user)
        except TeamRuleError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"{made.display_name} now administers this Cutroom.")
            return _back(request, "administrators")
    return _page(request, status=400, admin_form=form)


@require_POST
def administrator_remove(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request.user)
    try:
        removed = administrator_revoke(email=request.POST.get("email", ""), actor=user)
    except TeamRuleError as error:
        messages.error(request, str(error))
        return _back(request, "administrators")
    if removed.pk == user.pk:
        messages.success(request, "You no longer administer this Cutroom.")
        return redirect("home")
    messages.success(request, f"{removed.display_name} no longer administers this Cutroom.")
    return _back(request, "administrators")


def _team(request: HttpRequest, code: str) -> tuple[Team, User]:
    """The team with this code and the administrator (404 for anyone else, or no such team)."""
    user = require_administrator(request.user)
    team = Team.objects.filter(code=code).first()
    if team is None:
        raise Http404("No such team.")
    return team, user


def _team_form_invalid(
    request: HttpRequest, team: Team, kind: str, form: forms.Form
) -> HttpResponse:
    messages.error(request, f"{team.name}: check the form below.")
    return _page(request, status=400, team_forms={team.code: {kind: form}})


@require_POST
def administration_team_limits(request: HttpRequest, code: str) -> HttpResponse:
    team, user = _team(request, code)
    form = TeamLimitsForm(
        request.POST, default_active=admin.team_max_active_default(), prefix=f"t-{team.code}"
    )
    if not form.is_valid():
        return _team_form_invalid(request, team, "limits", form)
    changes = admin.team_limits_set(
        team=team,
        cap_usd=form.cleaned_data["cap_usd"],
        max_active=form.cleaned_data["max_active"],
        actor=user,
    )
    if changes:
        messages.success(request, f"{team.name}: {'; '.join(changes)}.")
    else:
        messages.info(request, f"{team.name}: nothing changed.")
    return _back(request, f"team-{team.code}")


@require_POST
def administration_team_suspend(request: HttpRequest, code: str) -> HttpResponse:
    team, user = _team(request, code)
    form = TeamSuspendForm(request.POST, prefix=f"t-{team.code}")
    if not form.is_valid():
        return _team_form_invalid(request, team, "suspend", form)
    reason = form.cleaned_data["reason"]
    if admin.team_suspend(team=team, reason=reason, actor=user):
        messages.success(
            request,
            f"{team.name} is suspended: its queued takes wait and it cannot send new ones. "
            "Nothing was deleted; its members see the reason.",
        )
    else:
        messages.info(request, f"{team.name} was already suspended.")
    return _back(request, f"team-{team.code}")


@require_POST
def administration_team_lift(request: HttpRequest, code: str) -> HttpResponse:
    team, user = _team(request, code)
    form = TeamLiftForm(request.POST, prefix=f"t-{team.code}")
    if not form.is_valid():
        return _team_form_invalid(request, team, "lift", form)
    if admin.team_lift(team=team, actor=user, note=form.cleaned_data["note"]):
        messages.success(request, f"{team.name} is no longer suspended: its waiting takes go on.")
    else:
        messages.info(request, f"{team.name} was not suspended.")
    return _back(request, f"team-{team.code}")
