"""Takes: the edit form, the take page with its live status, cancel, run again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.forms import AdoptTaskForm, ShareLinkForm, TakeForm
from studio.models import Clip, Lineage, MediaState, Take, TakeStar, TakeState
from studio.ops import health
from studio.parameters import EditParameters
from studio.projects.services import ARCHIVED_NO_TAKES
from studio.providers.catalogue import about
from studio.services import budgets, takes
from studio.services.comments import subject_fps
from studio.services.takes.queue import take_place


def take_for(request: AuthenticatedHttpRequest, code: str, need: str = "view"):
    """The take with this code and the user's membership, through the access helper."""
    return get_for_user(
        request.user,
        Take.objects.select_related("project__team", "clip", "created_by", "input_clip"),
        need=need,
        team_path="project__team",
        code=code,
    )


@login_required
@require_http_methods(["GET", "POST"])
def take_new(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = get_for_user(
        request.user,
        Clip.objects.select_related("project__team"),
        need="edit",
        team_path="project__team",
        code=code,
    )
    if clip.project.is_archived:
        messages.error(request, ARCHIVED_NO_TAKES)
        return redirect("clip_detail", code=clip.code)
    if clip.state != MediaState.READY:
        messages.error(request, "This clip cannot be edited: it is not ready yet.")
        return redirect("clip_detail", code=clip.code)
    if clip.edit_problem:
        messages.error(request, clip.edit_problem)
        return redirect("clip_detail", code=clip.code)
    initial: dict[str, Any] = {"length": min(5.0, round(clip.duration or 0, 1)), "start": 0}
    source = Take.objects.filter(clip=clip, code=request.GET.get("from", "")).first()
    if source is not None:  # Remix: start from that take's parameters
        initial |= source.parameters.as_dict() | {
            "start": source.start_ms / 1000,
            "length": source.length_ms / 1000,
            "references": [r.pk for r in source.references.all()],
        }
    form = TakeForm(request.POST or None, clip=clip, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            take = _create_from_form(request, clip, form, remix_of=source)
        except budgets.OverBudget as over:  # the form stays filled in, with the reason
            form.add_error(None, str(over))
        except takes.Refused as refused:
            if not clip.project.team.is_suspended:  # archived since the form was opened
                messages.error(request, str(refused))
                return redirect("clip_detail", code=clip.code)
            form.add_error(None, str(refused))  # suspended: filled in, kept, with the reason
        else:
            messages.success(
                request, "The take is queued. You can close this page; it keeps going."
            )
            return redirect("take_detail", code=take.code)
    context = {
        "clip": clip,
        "project": clip.project,
        "membership": membership,
        "form": form,
        "prices": {k: str(v) for k, v in settings.PRICE_PER_SECOND.items()},
        "engine": about(settings.STUDIO_PROVIDER),
        "budget_warnings": budgets.budgets_warnings_shown(
            project=clip.project, author=request.user
        ),
    }
    return render(request, "studio/take_new.html", context, status=400 if form.errors else 200)


def _create_from_form(
    request: AuthenticatedHttpRequest, clip: Clip, form: TakeForm, remix_of: Take | None = None
) -> Take:
    return takes.take_create(
        run_of=remix_of,
        lineage=Lineage.REMIX,
        project=clip.project,
        author=request.user,
        clip=clip,
        parameters=form.parameters,
        start=float(form.cleaned_data["start"]),
        length=float(form.cleaned_data["length"]),
        references=form.cleaned_data["references"],
    )


def _status_context(take: Take, membership: Any) -> dict[str, Any]:
    worker_down = take.is_active and not health.worker_running()
    place = None
    if take.state == TakeState.QUEUED and not worker_down:
        # Only the team's own takes are counted: others' would tell how busy other teams are.
        place = take_place(take)
    next_check = None
    if take.state == TakeState.RUNNING and take.next_check_at:
        next_check = max(0, round((take.next_check_at - timezone.now()).total_seconds()))
    return {
        "take": take,
        "project": take.project,
        "membership": membership,
        "place": place,
        "now_soon": timezone.now() + timedelta(seconds=5),
        "team_ahead": place.team_ahead if place else None,
        "shared_slots": settings.MAX_ACTIVE_EDITS,
        "worker_down": worker_down,
        # Takes are admitted and polled by the scheduler process: say so when none runs.
        "scheduler_down": take.is_active and not worker_down and not health.scheduler_running(),
        "next_check": next_check,
        "events": take.events.all(),
        "engine_label": take.engine.label,
        "fps": subject_fps(take=take),  # the compare player's frame steps
    }


@login_required
@require_GET
def take_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code)
    team_switch(user=request.user, team=take.project.team)
    context = take_page_context(request, take, membership)
    return render(request, "studio/take_detail.html", context)


def take_page_context(
    request: AuthenticatedHttpRequest,
    take: Take,
    membership: Any,
    share_form: ShareLinkForm | None = None,
) -> dict[str, Any]:
    """Everything the take page shows; share_create renders it again with its form's errors."""
    context = _status_context(take, membership)
    context["references"] = take.references.order_by("takereference__position")
    siblings = Take.objects.filter(clip=take.clip, state=TakeState.SUCCEEDED).exclude(pk=take.pk)
    context["other_takes"] = list(siblings.order_by("-created_at")[:50]) if take.clip else []
    other = next((t for t in context["other_takes"] if t.code == request.GET.get("with")), None)
    context["with_take"] = other
    context["diff"] = parameter_diff(other, take) if other else []
    context["starred"] = TakeStar.objects.filter(take=take, user=request.user).exists()
    links = list(take.share_links.all()) if membership.can_edit else []
    context["share_links"] = links
    # A new link's address is shown once, just after it was made (share_create put it there).
    new = ((link.code, request.session.pop(f"share-{link.code}", "")) for link in links)
    context["new_share_urls"] = [(code, url) for code, url in new if url]
    context["variation_costs"] = [(n, take.estimate_usd * n) for n in (2, 3, 4)]
    context["provider"] = settings.STUDIO_PROVIDER  # variations go to today's provider
    context["share_form"] = share_form or ShareLinkForm()
    context["comment_panel"] = None
    if take.state == TakeState.SUCCEEDED:
        from studio.views.comments import comment_panel  # it reaches takes through this module

        context["comment_panel"] = comment_panel(request, take=take, membership=membership)
        if other is not None:  # the left video is another take: comments go on this one
            context["comment_panel"]["sides"] = ["after"]
    return context


DIFF_FIELDS = [
    *((name, spec.metadata["declared"].short) for name, spec in EditParameters.declared().items()),
    ("start_ms", "Start (ms)"),
    ("length_ms", "Length (ms)"),
    ("provider", "Engine"),
]


def parameter_diff(a: Take, b: Take) -> list[dict[str, Any]]:
    """Every parameter of two takes, marking the ones that differ."""
    refs_a = [r.original_name for r in a.references.order_by("takereference__position")]
    refs_b = [r.original_name for r in b.references.order_by("takereference__position")]
    rows = [
        {"label": label, "a": getattr(a, name), "b": getattr(b, name)}
        for name, label in DIFF_FIELDS
    ]
    rows.append({"label": "References", "a": ", ".join(refs_a), "b": ", ".join(refs_b)})
    for row in rows:
        row["changed"] = row["a"] != row["b"]
    return rows


@login_required
@require_GET
def take_status(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code)
    return render(request, "studio/take_detail.html#status", _status_context(take, membership))


@login_required
@require_POST
def take_cancel(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if takes.take_cancel(take=take):
        messages.success(
            request,
            "Canceled." if not take.provider_task_id else "Cutroom stopped waiting for this take.",
        )
    else:
        messages.error(request, "This take can no longer be canceled.")
    return redirect("take_detail", code=take.code)


VARIATION_COUNTS = {"2": 2, "3": 3, "4": 4}


@login_required
@require_POST
def take_variations(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    # Looked up, not parsed: "²" and 5000-digit numbers pass str.isdigit() but not int().
    count = VARIATION_COUNTS.get(request.POST.get("count", ""), 0)
    if not count or take.clip is None or take.clip.state != MediaState.READY:
        messages.error(request, "Choose 2 to 4 variations of a take whose clip still exists.")
        return redirect("take_detail", code=take.code)
    try:
        made = takes.take_variations(take=take, author=request.user, count=count)
    except takes.Refused as refused:
        messages.error(request, str(refused))
        return redirect("take_detail", code=take.code)
    messages.success(
        request,
        f"{len(made)} variations are queued, each with a new seed. Each cell below fills in "
        "as its take finishes; approve the one that ships.",
    )
    # The variation grid of the new set (studio/views/review.py).
    return redirect(f"{reverse('clip_grid', args=[take.clip.code])}?batch={made[0].batch}")


@login_required
@require_POST
def take_again(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if take.clip is None or take.clip.state != MediaState.READY:
        messages.error(request, "The source clip of this take is gone, so it cannot run again.")
        return redirect("take_detail", code=take.code)
    try:
        again = takes.take_run_again(take=take, author=request.user)
    except takes.Refused as refused:
        messages.error(request, str(refused))
        return redirect("take_detail", code=take.code)
    messages.success(request, "A new take with the same parameters is queued.")
    return redirect("take_detail", code=again.code)


# -- ways out of an uncertain or stuck take (templates/studio/_uncertain.html) ---------------
@login_required
@require_POST
def take_send_again(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm the new paid request, then send again.")
    elif take.clip is None or take.clip.state != MediaState.READY:
        messages.error(request, "This take cannot be sent again: its source clip is gone.")
    else:
        try:
            takes.take_send_again(take=take, author=request.user)
        except takes.Refused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, "The edit is queued to be sent again, as a new request.")
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def take_adopt(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    form = AdoptTaskForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["task_id"]))
        return redirect("take_detail", code=take.code)
    task_id = form.cleaned_data["task_id"]
    try:
        takes.take_adopt(take=take, task_id=task_id, author=request.user)
    except takes.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, f"Cutroom now follows the provider task {task_id} and saves its result."
        )
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def take_save_again(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    try:
        takes.take_save_again(take=take, author=request.user)
    except takes.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Cutroom is fetching the result from the provider again.")
    return redirect("take_detail", code=take.code)
