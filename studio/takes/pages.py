"""What a take's page shows, for members (studio.takes.views) and for a share link's guests
(studio.review.share_views)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.http import AuthenticatedHttpRequest
from studio.models import Take, TakeStar, TakeState
from studio.ops import health
from studio.projects.models import TRASH_KEEP
from studio.review.comments import subject_fps
from studio.review.forms import ShareLinkForm
from studio.review.versions import take_parent_version
from studio.takes import estimates, trash
from studio.takes.labelled import take_label_request
from studio.takes.parameters import EditParameters
from studio.takes.queue import take_place


def status_context(take: Take, membership: Any) -> dict[str, Any]:
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
        **export_context(take, membership),
        **(labelled_context(take, membership) if take.state == TakeState.SUCCEEDED else {}),
    }


def export_context(take: Take, membership: Any) -> dict[str, Any]:
    """The side-by-side export's part of the page (studio.takes.views.take_export_status)."""
    working = take.export_state == "working"
    return {
        "take": take,
        "membership": membership,
        "export_worker_down": working and not health.worker_running(),
    }


def labelled_context(take: Take, membership: Any) -> dict[str, Any]:
    """The result's download (studio.takes.views.take_label_status): while the team asks for
    labels, the labelled copy, asked for here when an older take has none yet."""
    take_label_request(take=take)
    labelling = take.needs_ai_label and take.labelled_state == "working"
    return {
        "take": take,
        "membership": membership,
        "label_worker_down": labelling and not health.worker_running(),
    }


def take_page_context(
    request: AuthenticatedHttpRequest,
    take: Take,
    membership: Any,
    share_form: ShareLinkForm | None = None,
) -> dict[str, Any]:
    """Everything the take page shows; share_create renders it again with its form's errors."""
    context = status_context(take, membership)
    context["references"] = take.references.order_by("takereference__position")
    siblings = (
        Take.objects.kept()
        .filter(clip=take.clip, state=TakeState.SUCCEEDED)
        .exclude(pk=take.pk)
        .select_related("clip")
    )
    shown = take.clip is not None and not take.is_trashed
    context["other_takes"] = list(siblings.order_by("-created_at")[:50]) if shown else []
    other = next((t for t in context["other_takes"] if t.code == request.GET.get("with")), None)
    context["with_take"] = other
    context["diff"] = parameter_diff(other, take) if other else []
    context["from_parent"] = take_parent_version(take)
    context["starred"] = TakeStar.objects.filter(take=take, user=request.user).exists()
    context["share_rows"] = _share_rows(request, take, membership)
    context["provider"] = settings.STUDIO_PROVIDER  # variations go to today's provider
    # What take_variations reserves: today's estimate, learned from recent charges.
    each = estimates.take_estimate(
        provider=settings.STUDIO_PROVIDER, resolution=take.resolution, seconds=take.output_seconds
    )
    context["variation_costs"] = [(n, each * n) for n in (2, 3, 4)]
    context["share_form"] = share_form or ShareLinkForm()
    context["comment_panel"] = None
    context |= _trash_context(take, membership)
    if take.state == TakeState.SUCCEEDED and not take.is_trashed:
        from studio.review.panels import comment_panel  # it reaches takes through this module

        context["comment_panel"] = comment_panel(request, take=take, membership=membership)
        if other is not None:  # the left video is another take: comments go on this one
            context["comment_panel"]["sides"] = ["after"]
    return context


def _trash_context(take: Take, membership: Any) -> dict[str, Any]:
    """A take in the trash shows when it goes for good and who may bring it back; one that is
    not offers Delete to editors, with what that affects."""
    if take.is_trashed:
        return {"may_restore": trash.take_may_restore(take, membership.user, membership)}
    if membership.can_edit and not take.is_active:
        return delete_context(take)
    return {}


def delete_context(take: Take) -> dict[str, Any]:
    """What the take's delete dialog (and its no-JavaScript page) says deleting it affects."""
    return {"impact": trash.take_impact(take), "keep_days": TRASH_KEEP.days}


def _share_rows(request: AuthenticatedHttpRequest, take: Take, membership: Any) -> list[Any]:
    """The Share card's links, for editors; the one just made (share_create noted it in the
    session) is pointed out once."""
    if not membership.can_edit or take.is_trashed:
        return []
    from studio.review.shares import share_rows  # it reaches takes through this module

    links = list(take.share_links.select_related("created_by"))
    new = request.session.pop("share-new", "")
    return share_rows(request, links, membership=membership, new_code=new)


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


DIFF_FIELDS = [
    *((name, spec.metadata["declared"].short) for name, spec in EditParameters.declared().items()),
    ("start_ms", "Start (ms)"),
    ("length_ms", "Length (ms)"),
    ("provider", "Engine"),
]
