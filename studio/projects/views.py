"""The home page, the team page, projects (new, page, library, archive, settings) and the team
history."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_user, get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.services import current_team_for, team_switch
from studio.governance import budgets, usage
from studio.media.probe import human_duration
from studio.models import Activity, CutRender, Project, RenderState
from studio.ops.health import scheduler_running, worker_running
from studio.projects.forms import ProjectForm
from studio.projects.pages import render_project_settings, render_team_page
from studio.projects.services import project_archive, project_create, project_update


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "projects/landing.html")
    team = current_team_for(request.user)
    if team is None:
        return redirect("team_list")
    return redirect("team_detail", code=team.code)


@login_required
@require_GET
def team_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team = membership.team
    team_switch(user=request.user, team=team)  # the navigation follows what is on screen
    return render_team_page(request, membership, ProjectForm())


@login_required
@require_GET
def team_activity(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team = membership.team
    team_switch(user=request.user, team=team)
    feed = Activity.objects.filter(team=team).select_related(
        "actor", "project", "take", "render__cut"
    )
    member = request.GET.get("member", "")
    if member:
        feed = feed.filter(actor__email__iexact=member)
    context = {
        "team": team,
        "membership": membership,
        "feed": feed[:200],
        "member": member,
        "members": team.memberships.select_related("user").order_by("user__email"),
        # This month by member, counted as the usage page counts it.
        "figures": [
            group
            for group in usage.team_usage(team=team, month=budgets.month_start()).members
            if group.tally.takes
        ],
    }
    return render(request, "projects/activity.html", context)


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
    clips = project.clips.kept().select_related("uploaded_by")
    references = project.references.select_related("uploaded_by")
    recent_takes = list(project.takes.kept().select_related("clip", "created_by")[:50])
    # The finished renders of the project's cuts, each its own kind of entry.
    renders = CutRender.objects.filter(
        cut__project=project, cut__clip__trashed_at__isnull=True, state=RenderState.READY
    )
    renders = renders.select_related("cut__clip").order_by("-created_at")[:20]
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
        "renders": list(renders),
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
        context["budget_warnings"] = budgets.budgets_warnings_shown(
            project=project, author=request.user
        )
    return render(request, "projects/project_detail.html", context)


@login_required
@require_GET
def project_library(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The clips and references part of the project page, polled while uploads are prepared."""
    project, membership = get_for_user(
        request.user, Project.objects.select_related("team"), code=code
    )
    return render(request, "projects/project_detail.html#library", _library(project, membership))


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
