"""A cut's pages: make a cut of a clip, its page (the timeline, its windows and their takes),
split the clip into windows, add, move and remove windows, edit every window at once, and
choose each window's take."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from studio.core.errors import Refused
from studio.core.http import wants_json
from studio.cuts import renders, services
from studio.cuts.access import cut_for, window_for
from studio.cuts.forms import CutEditForm, CutForm, SpanForm
from studio.cuts.models import Cut, CutWindow, RenderState
from studio.governance import budgets
from studio.library.access import clip_for
from studio.providers.catalogue import about
from studio.takes import estimates
from studio.takes.models import Take, TakeState


@login_required
@require_POST
def cut_new(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    clip, _ = clip_for(request, code, need="edit")
    form = CutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("clip_detail", code=clip.code)
    try:
        cut = services.cut_create(
            clip=clip,
            author=request.user,
            name=form.cleaned_data["name"],
            crossfade_frames=form.cleaned_data["crossfade_frames"],
        )
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect("clip_detail", code=clip.code)
    if clip.duration and clip.duration >= 2:
        try:
            services.cut_windows_split(cut=cut)
        except Refused as refused:
            messages.info(request, str(refused))
    return redirect("cut_detail", code=cut.code)


@login_required
@require_GET
def cut_detail(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    cut, membership = cut_for(request, code)
    return _page(request, cut, membership)


def _page(
    request: AuthenticatedHttpRequest,
    cut: Cut,
    membership: Membership,
    *,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    clip = cut.clip
    duration = float(clip.duration or 0) or 1.0
    windows = list(cut.windows.select_related("chosen").prefetch_related("takes"))
    for window in windows:
        if window.chosen is not None and window.chosen.is_trashed:
            window.chosen = None  # shown as not chosen while it is in the trash (not saved)
    shots = [at for at in clip.shot_cuts or () if 0 < at < duration]
    edit_form = forms.get("edit_form") or CutEditForm(clip=clip, windows=windows)
    rows = []
    seconds = Decimal(0)
    for number, window in enumerate(windows, start=1):
        request_span = services.window_request(window)
        seconds += Decimal(str(request_span.length))
        # A trashed take leaves the window's stack (and its comments with it) until restored.
        takes = sorted(
            (take for take in window.takes.all() if not take.is_trashed),
            key=lambda take: take.created_at,
            reverse=True,
        )
        rows.append(
            {
                "number": number,
                "window": window,
                "request": request_span,
                "takes": takes,
                "finished": [t for t in takes if t.state == TakeState.SUCCEEDED],
                "crosses": [at for at in shots if window.start < at < window.end],
                "stack": _stack_state(window, takes),
                "sound_problem": services.take_sound_problem(window.chosen),
                "prompt_field": edit_form.window_prompt(window),
            }
        )
    prices = estimates.prices_per_second(settings.STUDIO_PROVIDER)
    context = {
        "cut": cut,
        "clip": clip,
        "project": cut.project,
        "membership": membership,
        "rows": rows,
        "shots": shots,
        "ticks": _ticks(duration),
        "duration": duration,
        "rate": services.frame_rate_of(clip),
        "sent_seconds": seconds,
        "totals": {resolution: price * seconds for resolution, price in prices.items()},
        "prices": {resolution: str(price) for resolution, price in prices.items()},
        "engine": about(settings.STUDIO_PROVIDER),
        "other_cuts": clip.cuts.exclude(pk=cut.pk).order_by("name"),
        "missing": [n for n, window in enumerate(windows, start=1) if window.chosen_id is None],
        **_renders_context(cut),
        "split_form": forms.get("split_form") or SpanForm(clip=clip, optional=True),
        "add_form": forms.get("add_form") or SpanForm(clip=clip),
        "edit_form": edit_form,
    }
    if membership.can_edit:
        context["budget_warnings"] = budgets.budgets_warnings_shown(
            project=cut.project, author=request.user
        )
        context["budget_room"] = budgets.budgets_room(project=cut.project, author=request.user)
    return render(request, "cuts/cut_detail.html", context, status=status)


def _stack_state(window: CutWindow, takes: list[Take]) -> str:
    """The one word the timeline colours a window by: its chosen take, else its newest take's
    state ("" without takes)."""
    if window.chosen_id is not None:
        return "chosen"
    if not takes:
        return ""
    newest = takes[0].state
    if newest in (TakeState.SUCCEEDED, TakeState.FAILED, TakeState.UNCERTAIN):
        return str(newest)
    return "failed" if takes[0].is_final else "working"


def _ticks(duration: float) -> list[tuple[float, str]]:
    """Ruler marks and their labels (m:ss): at most six along the clip, to fit a phone."""
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if duration / s <= 6), 1200)
    return [(float(at), f"{at // 60}:{at % 60:02d}") for at in range(0, int(duration) + 1, step)]


@login_required
@require_POST
def cut_split(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    cut, membership = cut_for(request, code, need="edit")
    form = SpanForm(request.POST, clip=cut.clip, optional=True)
    if not form.is_valid():
        return _page(request, cut, membership, status=400, split_form=form)
    start = float(form.cleaned_data.get("start") or 0)
    end = form.cleaned_data.get("end")
    try:
        made = services.cut_windows_split(
            cut=cut, start=start, end=float(end) if end is not None else None
        )
    except Refused as refused:
        form.add_error(None, str(refused))
        return _page(request, cut, membership, status=400, split_form=form)
    messages.success(request, f"The clip is split into {len(made)} windows.")
    return redirect("cut_detail", code=cut.code)


@login_required
@require_POST
def window_add(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    cut, membership = cut_for(request, code, need="edit")
    form = SpanForm(request.POST, clip=cut.clip)
    if not form.is_valid():
        if wants_json(request):
            return _refusal(_errors(form))
        return _page(request, cut, membership, status=400, add_form=form)
    try:
        window = services.window_add(
            cut=cut, start=float(form.cleaned_data["start"]), end=float(form.cleaned_data["end"])
        )
    except Refused as refused:
        if wants_json(request):
            return _refusal(str(refused))
        form.add_error(None, str(refused))
        return _page(request, cut, membership, status=400, add_form=form)
    if wants_json(request):
        return _window_answer(window, f"Window added at {services.span_text(window)}.")
    messages.success(request, "Window added.")
    return redirect("cut_detail", code=cut.code)


@login_required
@require_POST
def window_move(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    window, _ = window_for(request, code, pk)
    form = SpanForm(request.POST, clip=window.cut.clip)
    if not form.is_valid():
        if wants_json(request):
            return _refusal(_errors(form), window)
        messages.error(request, _errors(form))
        return redirect("cut_detail", code=code)
    try:
        services.window_move(
            window=window,
            start=float(form.cleaned_data["start"]),
            end=float(form.cleaned_data["end"]),
        )
    except Refused as refused:
        if wants_json(request):
            return _refusal(str(refused), window)
        messages.error(request, str(refused))
    else:
        if wants_json(request):
            return _window_answer(window, f"Window moved to {services.span_text(window)}.")
        messages.success(request, "Window moved.")
    return redirect("cut_detail", code=code)


@login_required
@require_POST
def window_settings(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    """A window's "match colour to the source" and "use the take's sound"."""
    window, _ = window_for(request, code, pk)
    try:
        services.window_settings_set(
            window=window,
            colour_match=request.POST.get("colour_match") == "on",
            take_sound=request.POST.get("take_sound") == "on",
        )
    except Refused as refused:
        if wants_json(request):
            return _refusal(str(refused), window)
        messages.error(request, str(refused))
    else:
        said = (
            f"Window at {services.span_text(window)}: colour "
            f"{'matched to the source' if window.colour_match else 'as the take made it'}, "
            f"{'the take' if window.take_sound else 'the source'}'s sound."
        )
        if wants_json(request):
            return _window_answer(window, said)
        messages.success(request, said)
    return redirect(f"{reverse('cut_detail', args=[code])}#windows-title")


def _window_answer(window: CutWindow, message: str) -> JsonResponse:
    return JsonResponse({"ok": True, "message": message, "window": _window_data(window)})


def _refusal(error: str, window: CutWindow | None = None) -> JsonResponse:
    """A refusal the page's script shows as it is; with the window as it stays, to put back."""
    body: dict[str, Any] = {"ok": False, "error": error}
    if window is not None:
        window.refresh_from_db()
        body["window"] = _window_data(window)
    return JsonResponse(body, status=400)


def _window_data(window: CutWindow) -> dict[str, Any]:
    return {
        "id": window.pk,
        "start": window.start,
        "end": window.end,
        "colour_match": window.colour_match,
        "take_sound": window.take_sound,
    }


@login_required
@require_POST
def window_remove(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    window, _ = window_for(request, code, pk)
    kept = window.takes.count()
    services.window_remove(window=window)
    messages.success(
        request,
        "Window removed."
        + (f" Its {kept} take{'s' if kept != 1 else ''} stay in the clip's takes." if kept else ""),
    )
    return redirect("cut_detail", code=code)


@login_required
@require_POST
def window_choose(request: AuthenticatedHttpRequest, code: str, pk: int) -> HttpResponse:
    window, _ = window_for(request, code, pk)
    take = Take.objects.kept().filter(code=request.POST.get("take", ""), window=window).first()
    if take is None:
        messages.error(request, "That take was not made for this window.")
        return redirect("cut_detail", code=code)
    try:
        services.window_choose(window=window, take=take)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "The window now uses that take.")
    return redirect("cut_detail", code=code)


@login_required
@require_POST
def cut_edit(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Edit every window (or those ticked) with one prompt and set of parameters."""
    cut, membership = cut_for(request, code, need="edit")
    every = list(cut.windows.all())
    form = CutEditForm(request.POST, clip=cut.clip, windows=every)
    if not form.is_valid():
        return _page(request, cut, membership, status=400, edit_form=form)
    ticked = {value for value in request.POST.getlist("windows") if value.isascii()}
    windows: list[CutWindow] = [w for w in every if str(w.pk) in ticked]
    if not windows:
        form.add_error(None, "Tick the windows to edit (all of them are ticked at first).")
        return _page(request, cut, membership, status=400, edit_form=form)
    try:
        takes = services.cut_takes_create(
            cut=cut,
            author=request.user,
            parameters=form.parameters,
            references=form.cleaned_data["references"],
            windows=windows,
            overrides=form.overrides(windows),
        )
    except Refused as refused:  # over budget, archived, suspended: the form stays filled in
        form.add_error(None, str(refused))
        return _page(request, cut, membership, status=400, edit_form=form)
    messages.success(
        request,
        f"{len(takes)} take{'s are' if len(takes) != 1 else ' is'} queued, one per window. "
        "You can close this page; they keep going.",
    )
    return redirect("cut_detail", code=cut.code)


@login_required
@require_POST
def cut_render_new(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """Render the cut as it is now; windows without a chosen take only as the person says."""
    cut, _ = cut_for(request, code, need="edit")
    try:
        made = renders.cut_render_request(
            cut=cut,
            author=request.user,
            source_where_missing=request.POST.get("source_where_missing") == "on",
        )
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Render v{made.number} is queued; this page shows its progress.")
    return redirect(f"{reverse('cut_detail', args=[cut.code])}#renders-title")


@login_required
@require_GET
def cut_renders(request: AuthenticatedHttpRequest, code: str) -> HttpResponse:
    """The cut's renders, refreshed live while one is being made."""
    cut, membership = cut_for(request, code)
    context = {"cut": cut, "membership": membership, **_renders_context(cut)}
    return render(request, "cuts/cut_detail.html#renders", context)


def _renders_context(cut: Cut) -> dict[str, Any]:
    made = list(cut.renders.all()[:20])
    pending = any(r.state in (RenderState.QUEUED, RenderState.RENDERING) for r in made)
    # Beside the Render button: what the next render would change against the latest ready one.
    latest = next((r for r in made if r.state == RenderState.READY), None)
    changes = None
    if latest is not None:
        step = 1 / (float(cut.clip.fps or 0) or 25.0)
        changes = renders.plan_changes(latest.plan, renders.cut_plan(cut), step)
    return {
        "renders": made,
        "renders_pending": pending,
        "latest_ready": latest,
        "changes": changes,
    }


def _errors(form: Any) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
