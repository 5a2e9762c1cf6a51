"""A take's pages and endpoints: the edit form, the take page and its live status, cancel, run
again, variations, send again, adopt, save again; and the team's gallery with stars,
descriptions and side-by-side exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import get_for_user, get_team_for_user
from accounts.http import AuthenticatedHttpRequest
from accounts.services import team_switch
from studio.core import errors
from studio.core.http import wants_json
from studio.governance import budgets
from studio.models import Clip, Lineage, MediaState, ReviewStatus, Take, TakeState
from studio.projects.models import TRASH_KEEP
from studio.projects.services import ARCHIVED_NO_TAKES
from studio.providers.catalogue import about
from studio.takes import bulk, create, download, estimates, gallery, labelled, trash
from studio.takes.access import take_for
from studio.takes.forms import AdoptTaskForm, TakeForm
from studio.takes.pages import (
    delete_context,
    export_context,
    labelled_context,
    status_context,
    take_page_context,
)
from studio.takes.parameters import Resolution


@login_required
@require_http_methods(["GET", "POST"])
def take_new(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, membership = get_for_user(
        request.user,
        Clip.objects.kept().select_related("project__team"),
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
    source = Take.objects.kept().filter(clip=clip, code=request.GET.get("from", "")).first()
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
        except errors.Refused as refused:
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
        # The price list, or what the provider has lately charged when that is more.
        "prices": {
            k: str(v) for k, v in estimates.prices_per_second(settings.STUDIO_PROVIDER).items()
        },
        "engine": about(settings.STUDIO_PROVIDER),
        "budget_warnings": budgets.budgets_warnings_shown(
            project=clip.project, author=request.user
        ),
        "budget_room": budgets.budgets_room(project=clip.project, author=request.user),
    }
    return render(request, "takes/take_new.html", context, status=400 if form.errors else 200)


def _create_from_form(
    request: AuthenticatedHttpRequest, clip: Clip, form: TakeForm, remix_of: Take | None = None
) -> Take:
    return create.take_create(
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


@login_required
@require_GET
def take_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code, trashed=True)
    team_switch(user=request.user, team=take.project.team)
    context = take_page_context(request, take, membership)
    return render(request, "takes/take_detail.html", context)


@login_required
@require_GET
def take_status(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, membership = take_for(request, code, trashed=True)
    return render(request, "takes/take_detail.html#status", status_context(take, membership))


@login_required
@require_GET
def take_label_status(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The result's download on the take page, polled while its labelled copy is being made."""
    take, membership = take_for(request, code)
    return render(request, "takes/take_detail.html#labelled", labelled_context(take, membership))


@login_required
@require_POST
def take_label(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Try again to make the labelled copy. Any member may: it is the only download of the
    result they are allowed while the team asks for labels, and making it costs no money."""
    take, _ = take_for(request, code)
    if labelled.take_label_request(take=take, again=True):
        messages.success(request, "The download with the “AI-generated” label is being made.")
    return redirect("take_detail", code=take.code)


@login_required
@require_GET
def take_export_status(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The side-by-side export's part of the take page, polled while it is being made."""
    take, membership = take_for(request, code)
    return render(request, "takes/take_detail.html#export", export_context(take, membership))


@login_required
@require_POST
def take_cancel(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if create.take_cancel(take=take):
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
    if not count or take.source_gone or take.clip is None or take.clip.state != MediaState.READY:
        messages.error(request, "Choose 2 to 4 variations of a take whose clip still exists.")
        return redirect("take_detail", code=take.code)
    try:
        made = create.take_variations(take=take, author=request.user, count=count)
    except errors.Refused as refused:
        messages.error(request, str(refused))
        return redirect("take_detail", code=take.code)
    messages.success(
        request,
        f"{len(made)} variations are queued, each with a new seed. Each cell below fills in "
        "as its take finishes; approve the one that ships.",
    )
    # The variation grid of the new set (studio/review/views.py).
    return redirect(f"{reverse('clip_grid', args=[take.clip.code])}?batch={made[0].batch}")


@login_required
@require_POST
def take_again(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if take.source_gone or take.clip is None or take.clip.state != MediaState.READY:
        messages.error(request, "The source clip of this take is gone, so it cannot run again.")
        return redirect("take_detail", code=take.code)
    try:
        again = create.take_run_again(take=take, author=request.user)
    except errors.Refused as refused:
        messages.error(request, str(refused))
        return redirect("take_detail", code=take.code)
    messages.success(request, "A new take with the same parameters is queued.")
    return redirect("take_detail", code=again.code)


# -- ways out of an uncertain or stuck take (templates/takes/_uncertain.html) ---------------
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
            create.take_send_again(take=take, author=request.user)
        except errors.Refused as refused:
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
        create.take_adopt(take=take, task_id=task_id, author=request.user)
    except errors.Refused as refused:
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
        download.take_save_again(take=take, author=request.user)
    except errors.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Cutroom is fetching the result from the provider again.")
    return redirect("take_detail", code=take.code)


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@require_GET
def team_gallery(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    membership = get_team_for_user(request.user, code)
    team = membership.team
    team_switch(user=request.user, team=team)
    get = request.GET
    filters = gallery.GalleryFilters(
        project=get.get("project", ""),
        member=get.get("member", ""),
        state=get.get("state", "") if get.get("state") in TakeState.values else "",
        review=get.get("review", "") if get.get("review") in ReviewStatus.values else "",
        resolution=get.get("resolution", "") if get.get("resolution") in Resolution.values else "",
        since=_date(get.get("since", "")),
        until=_date(get.get("until", "")),
        starred=get.get("starred") == "1",
        q=get.get("q", "").strip()[:200],
        sort=get.get("sort", "") if get.get("sort") in gallery.SORTS else "newest",
    )
    takes, next_cursor = gallery.gallery(
        team=team, user=request.user, filters=filters, before=get.get("before", "")
    )
    query = get.copy()
    query.pop("before", None)
    query.pop("select", None)
    # This very page (its order, filters and cursor), for the bulk form to come back to, and
    # again with every box ticked for "Select all on this page" without JavaScript.
    here = get.copy()
    here.pop("select", None)
    ticked = here.copy()
    ticked["select"] = "all"
    context = {
        "team": team,
        "membership": membership,
        "takes": takes,
        "filters": filters,
        "next_cursor": next_cursor,
        "query": query.urlencode(),
        "paged": bool(get.get("before")),
        "projects": team.projects.order_by("name"),
        "members": team.memberships.select_related("user").order_by("user__email"),
        "states": TakeState.choices,
        "resolutions": Resolution.choices,
        "sorts": gallery.SORT_CHOICES,
        "review_choices": ReviewStatus.choices,
        # Without JavaScript, "Select all on this page" is a link that ticks every box.
        "select_all": get.get("select") == "all",
        "here": f"{request.path}?{here.urlencode()}" if here else request.path,
        "select_all_query": ticked.urlencode(),
        "active_filters": _active_filters(filters),
    }
    return render(request, "takes/gallery.html", context)


def _active_filters(filters: gallery.GalleryFilters) -> int:
    """How many filters narrow the gallery: the phone's "Filters (2)" button says it."""
    shown = [filters.project, filters.member, filters.state, filters.review, filters.resolution]
    return sum(map(bool, [*shown, filters.since, filters.until, filters.starred, filters.q]))


BULK_DONE = {"star": "starred", "unstar": "unstarred"}


@login_required
@require_POST
def gallery_bulk(request: AuthenticatedHttpRequest, code: str) -> HttpResponseBase:
    """The gallery's bulk actions on the ticked takes: download a zip, set the review status,
    star or unstar, move to the trash. Every outcome is said in words on the gallery."""
    membership = get_team_for_user(request.user, code)
    post = request.POST
    back = post.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("team_gallery", args=[membership.team.code])
    action = post.get("action", "")
    takes = bulk.bulk_takes(team=membership.team, codes=post.getlist("take"))
    if not takes.done and not takes.refused:
        messages.error(request, "Tick one or more takes first, then choose what to do.")
        return redirect(back)
    try:
        if action == "download":
            return _bulk_zip(takes)
        if action == "review":
            status = post.get("status", "")
            outcome = bulk.takes_review_set(
                takes=takes, status=status, user=request.user, membership=membership
            )
            done = f"set to {ReviewStatus(status).label}"
        elif action == "trash":
            outcome = bulk.takes_to_trash(takes=takes, user=request.user, membership=membership)
            done = "moved to the trash (restorable there for 30 days)"
        elif action in BULK_DONE:
            outcome = bulk.takes_star(takes=takes, user=request.user, starred=action == "star")
            done = BULK_DONE[action]
        else:
            raise errors.Refused("Choose what to do with the ticked takes.")
    except errors.Refused as refused:
        messages.error(request, str(refused))
        return redirect(back)
    say = messages.warning if outcome.refused else messages.success
    say(request, outcome.summary(done))
    return redirect(back)


def _bulk_zip(takes: bulk.Outcome) -> HttpResponseBase:
    stream, packed = bulk.takes_zip(takes=takes)
    response = StreamingHttpResponse(stream, content_type="application/zip")
    response["Content-Length"] = str(len(stream))
    name = f"cutroom-{len(packed.done)}-takes-{timezone.localdate().isoformat()}.zip"
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def take_star(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code)
    wanted = {"1": True, "0": False}.get(request.POST.get("starred", ""))
    starred = gallery.take_star(take=take, user=request.user, starred=wanted)
    if wants_json(request):  # the gallery stars in place
        return JsonResponse({"starred": starred})
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        # Without JavaScript the page reloads; the fragment brings the person back to the card.
        return redirect(f"{back.split('#', 1)[0]}#take-{take.code}")
    return redirect("take_detail", code=take.code)


@login_required
@require_POST
def take_describe(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    gallery.take_describe(
        take=take,
        title=request.POST.get("title", "")[:120],
        notes=request.POST.get("notes", "")[:4000],
    )
    return redirect("take_detail", code=take.code)


@login_required
@require_http_methods(["GET", "POST"])
def take_delete(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """GET: what deleting the take affects, on a page of its own (the take page and the version
    stack ask in a dialog). POST: the take goes to the team's trash."""
    take, membership = take_for(request, code, need="edit")
    if request.method == "GET":
        context = {"take": take, "project": take.project, "membership": membership}
        return render(request, "takes/take_delete.html", context | delete_context(take))
    try:
        trash.take_trash(take, request.user)
    except errors.Refused as refused:
        messages.error(request, str(refused))
        return redirect("take_detail", code=take.code)
    messages.success(
        request,
        f"The take {trash.take_label(take)} is in the trash. It can be restored from the trash "
        f"for {TRASH_KEEP.days} days.",
    )
    if take.clip is not None:
        return redirect("clip_detail", code=take.clip.code)
    return redirect("project_detail", code=take.project.code)


@login_required
@require_POST
def take_export(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    take, _ = take_for(request, code, need="edit")
    if gallery.take_export_request(take=take):
        messages.success(
            request, "The side-by-side video is being made; its download appears below."
        )
    return redirect("take_detail", code=take.code)
