"""A team's usage page, its CSV, and the owners' budget forms (docs/governance.md "Budgets")."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_user, get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership, Team
from accounts.services import team_switch
from studio.governance import budgets, usage
from studio.governance.forms import BudgetForm
from studio.models import Project
from studio.projects.pages import render_project_settings
from studio.providers.catalogue import about
from studio.takes import estimates

Bound = tuple[str, BudgetForm] | None  # the form that was sent back with errors, by its key


def _month(request: AuthenticatedHttpRequest) -> date:
    """The month asked for (?month=YYYY-MM), this month by default; 404 for one that is not
    a month, or has not begun."""
    value = request.GET.get("month", "")
    if not value:
        return budgets.month_start()
    month = usage.month_parse(value)
    if month is None or month > budgets.month_start():
        raise Http404("No such month.")
    return month


def _plain(limit: Decimal | None) -> str:
    return "" if limit is None else f"{limit:.2f}"


def _form(bound: Bound, key: str, label: str, limit: Decimal | None) -> BudgetForm:
    if bound is not None and bound[0] == key:
        return bound[1]
    return BudgetForm(initial={"limit": _plain(limit)}, label=label, key=key)


def usage_context(
    request: AuthenticatedHttpRequest, membership: Membership, month: date, bound: Bound = None
) -> dict[str, Any]:
    team = membership.team
    found = usage.team_usage(team=team, month=month)
    # Budgets are changed on this month's page: on an earlier month's, a form would seem to
    # change that month's limit, which no longer counts for anything.
    can_set = membership.is_owner and found.is_current
    members = [
        {
            "group": group,
            "form": _form(bound, group.key, f"{group.name}'s monthly budget (USD)", _limit(group))
            if can_set and group.key
            else None,
        }
        for group in found.members
    ]
    projects = [
        {
            "group": group,
            "form": _form(bound, group.key, f"{group.name}: monthly budget (USD)", _limit(group))
            if can_set
            else None,
        }
        for group in found.projects
    ]
    months = usage.months_to_show(team)
    earlier = budgets.month_before(month)
    return {
        "team": team,
        "membership": membership,
        "usage": found,
        "month": month,
        "months": months,
        "earlier": earlier if earlier >= months[-1] else None,
        "later": budgets.month_after(month) if not found.is_current else None,
        "instance_budget": budgets.instance_budget_measure(month)
        if request.user.is_staff
        else None,
        "cap": usage.team_cap_of(found, budgets.administrators_phrase()),
        "team_budget": usage.team_budget_of(found),
        "team_form": _form(bound, "team", "Monthly budget (USD)", team.budget_usd)
        if can_set
        else None,
        "members": members,
        "projects": projects,
        "chart": usage.day_chart(found),
        "estimate_history": estimates.HISTORY,
        "estimate_days": estimates.LOOKBACK.days,
        "budget_warnings": budgets.team_budgets_warnings(team=team, author=request.user)
        if found.is_current and about(settings.STUDIO_PROVIDER).bills
        else [],
    }


def _limit(group: usage.Group) -> Decimal | None:
    return group.budget.limit if group.budget is not None else None


def _render_usage(
    request: AuthenticatedHttpRequest, membership: Membership, bound: Bound = None
) -> HttpResponse:
    month = budgets.month_start() if bound else _month(request)
    context = usage_context(request, membership, month, bound)
    return render(request, "governance/usage.html", context, status=400 if bound else 200)


@login_required
@require_GET
def team_usage(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team_switch(user=request.user, team=membership.team)
    return _render_usage(request, membership)


@login_required
@require_GET
def team_usage_csv(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    found = usage.team_usage(team=membership.team, month=_month(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=usage.csv_filename(found)
    )
    csv.writer(response).writerows(usage.csv_rows(found))
    return response


def _confirm(request: AuthenticatedHttpRequest, said: str) -> None:
    messages.success(request, said or "Nothing changed: the budget was already that.")


def _back_to_usage(team: Team, anchor: str) -> HttpResponse:
    return redirect(reverse("team_usage", args=[team.code]) + f"#{anchor}")


@login_required
@require_POST
def team_budget(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code, need="own")
    team = membership.team
    form = BudgetForm(request.POST, label="Monthly budget (USD)", key="team")
    if not form.is_valid():
        return _render_usage(request, membership, ("team", form))
    said = budgets.team_budget_set(team=team, limit=form.cleaned_data["limit"], actor=request.user)
    _confirm(request, said)
    return _back_to_usage(team, "team-budgets")


@login_required
@require_POST
def member_budget(request: AuthenticatedHttpRequest, code: str, member: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code, need="own")
    target = (
        Membership.objects.select_related("user", "team")
        .filter(team_id=membership.team_id, code=member)
        .first()
    )
    if target is None:
        raise Http404("No such member.")
    key = str(target.code)
    label = f"{target.user.display_name}'s monthly budget (USD)"
    form = BudgetForm(request.POST, label=label, key=key)
    if not form.is_valid():
        return _render_usage(request, membership, (key, form))
    said = budgets.member_budget_set(
        membership=target, limit=form.cleaned_data["limit"], actor=request.user
    )
    _confirm(request, said)
    return _back_to_usage(membership.team, f"member-{key}")


@login_required
@require_POST
def project_budget(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """From the project's settings page, or from the usage page (back=usage)."""
    project, membership = get_for_user(
        request.user, Project.objects.select_related("team"), need="own", code=code
    )
    from_usage = request.POST.get("back") == "usage"
    label = f"{project.name}: monthly budget (USD)" if from_usage else "Monthly budget (USD)"
    form = BudgetForm(request.POST, label=label, key=project.code)
    if not form.is_valid():
        if from_usage:
            return _render_usage(request, membership, (project.code, form))
        return render_project_settings(request, project, membership, budget_form=form)
    said = budgets.project_budget_set(
        project=project, limit=form.cleaned_data["limit"], actor=request.user
    )
    _confirm(request, said)
    if from_usage:
        return _back_to_usage(project.team, f"project-{project.code}")
    return redirect(reverse("project_settings", args=[project.code]) + "#budget")
