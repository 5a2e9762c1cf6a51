"""Pages that more than one domain's views render: the team page with its new-project form and
the project settings with their budget form."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from studio.governance import budgets
from studio.governance.forms import BudgetForm
from studio.models import Clip, MediaState, Project, Take
from studio.projects.forms import ProjectForm


def render_team_page(
    request: HttpRequest, membership: Membership, form: ProjectForm, status: int = 200
) -> HttpResponse:
    team = membership.team
    ready = Clip.objects.kept().filter(project=OuterRef("pk"), state=MediaState.READY)
    projects: list[Any] = list(
        team.projects.select_related("created_by").annotate(
            clip_count=Count(
                "clips",
                filter=~Q(clips__state=MediaState.REJECTED) & Q(clips__trashed_at__isnull=True),
            ),
            poster_clip=Subquery(
                ready.exclude(poster="").order_by("-created_at").values("code")[:1]
            ),
        )
    )
    # One query for the poster clips of all projects, for their thumbnails and sizes.
    posters = Clip.objects.in_bulk(
        [p.poster_clip for p in projects if p.poster_clip], field_name="code"
    )
    for project in projects:
        clip = posters.get(project.poster_clip)
        project.poster = clip.grid_poster if clip else None
    context = {
        "team": team,
        "membership": membership,
        "projects": [p for p in projects if not p.is_archived],
        "archived_projects": [p for p in projects if p.is_archived],
        "project_form": form,
        "member_count": team.memberships.count(),
    }
    return render(request, "projects/team_detail.html", context, status=status)


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
    return render(request, "projects/project_settings.html", context, status=status)
