"""Projects: create, look at, rename, archive."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_user, get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from accounts.services import team_switch
from studio.forms import BudgetForm, ProjectForm
from studio.media.probe import human_duration
from studio.models import Project, Take
from studio.ops.health import scheduler_running, worker_running
from studio.providers.catalogue import about
from studio.services import budgets, project_archive, project_create, project_update
from studio.services.budgets import Budget
from studio.views.home import render_team_page


@login_required
@require_POST
def project_new(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code, need="edit")
    form = ProjectForm(request.POST)
    if not form.is_valid():
        return render_team_page(request, membership, form, status=400)
    project = project_create(
        team=membership.team,
        author=request.user,
        name=form.cleaned_data["name"],
        description=form.cleaned_data["description"],
    )
    return redirect("project_detail", code=project.code)


def _library(project: Project, membership: object) -> dict[str, object]:
    clips = project.clips.select_related("uploaded_by")
    references = project.references.select_related("uploaded_by")
    recent_takes = list(project.takes.select_related("clip", "created_by")[:50])
    takes_active = any(take.is_active for take in recent_takes)
    pending = takes_active or any(item.is_pending for item in (*clips, *references))
    # Uploads and takes wait for the worker; say so when none is alive rather than spin. Takes
    # also need the scheduler process (admission and polling).
    worker_down = pending and not worker_running()
    return {
        "project": project,
        "membership": membership,
        "clips": clips,
        "references": references,
        "takes": recent_takes,
        "pending": pending,
        "worker_down": worker_down,
        "scheduler_down": takes_active and not worker_down and not scheduler_running(),
        "upload_key": uuid.uuid4,
        "max_upload_bytes": settings.MAX_UPLOAD_BYTES,
        "max_source_length": human_duration(settings.MAX_SOURCE_SECONDS),
    }


@login_required
@require_GET
def project_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    project, membership = get_for_user(
        request.user, Project.objects.select_related("team"), code=code
    )
    team_switch(user=request.user, team=project.team)
    context = _library(project, membership)
    if membership.can_edit:
        context["budget_warnings"] = budget_warnings_for(request, project)
    return render(request, "studio/project_detail.html", context)


def budget_warnings_for(request: AuthenticatedHttpRequest, project: Project) -> list[Budget]:
    """The budgets at 80 % or more that cover the takes this person would send in `project`;
    none when takes cost nothing here (the local engine)."""
    if not about(settings.STUDIO_PROVIDER).bills:
        return []
    return budgets.budgets_warnings(project=project, author=request.user)


@login_required
@require_GET
def project_library(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The clips and references part of the project page, polled while uploads are prepared."""
    project, membership = get_for_user(
        request.user, Project.objects.select_related("team"), code=code
    )
    return render(request, "studio/project_detail.html#library", _library(project, membership))


@login_required
@require_POST
def project_archive_toggle(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    project, _ = get_for_user(
        request.user, Project.objects.select_related("team"), need="edit", code=code
    )
    archive = request.POST.get("archived") == "1"
    project_archive(project=project, archived=archive)
    if archive:
        messages.success(request, f"{project.name} is archived. Restore it any time.")
        return redirect("team_detail", code=project.team.code)
    messages.success(request, f"{project.name} is back in the project list.")
    return redirect("project_detail", code=project.code)


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    project, membership = get_for_user(
        request.user, Project.objects.select_related("team"), need="edit", code=code
    )
    initial = {"name": project.name, "description": project.description}
    form = ProjectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        project_update(
            project=project,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
        messages.success(request, "Project saved.")
        return redirect("project_detail", code=project.code)
    return render_project_settings(request, project, membership, form=form)


def render_project_settings(
    request: AuthenticatedHttpRequest,
    project: Project,
    membership: Membership,
    *,
    form: ProjectForm | None = None,
    budget_form: BudgetForm | None = None,
) -> HttpResponse:
    """The project's details and its monthly budget: owners change the budget (a form of its
    own, posted to project_budget), editors see it."""
    if form is None:
        form = ProjectForm(initial={"name": project.name, "description": project.description})
    month = budgets.month_start()
    limit = project.budget_usd
    budget = (
        budgets.budget_measure(
            "project",
            project.code,
            f"the monthly budget of the project {project.name}",
            limit,
            Take.objects.filter(project_id=project.pk),
            budgets.owners_phrase(project.team),
            month,
        )
        if limit is not None
        else None
    )
    spent, charged = budgets.held_split(
        budgets.takes_in_month(Take.objects.filter(project_id=project.pk), month)
    )
    if budget_form is None and membership.is_owner:
        budget_form = BudgetForm(
            initial={"limit": "" if limit is None else f"{limit:.2f}"}, key=project.code
        )
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "budget": budget,
        "spent": spent,
        "charged": charged,
        "estimated": spent - charged,
        "budget_form": budget_form,
    }
    status = 400 if form.errors or (budget_form is not None and budget_form.errors) else 200
    return render(request, "studio/project_settings.html", context, status=status)
