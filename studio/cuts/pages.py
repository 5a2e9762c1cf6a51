"""What a render's page shows: the compare with the source, its facts, and (as on a take's
page) its comments, review status and share links. The members' page (studio.cuts.render_views)
and a share-link's error page (studio.review.share_views) both build it here."""

from __future__ import annotations

from typing import Any

from accounts.http import AuthenticatedHttpRequest
from accounts.models import Membership
from studio.cuts.models import CutRender, RenderState
from studio.review.comments import subject_fps
from studio.review.forms import ShareLinkForm
from studio.review.panels import comment_panel
from studio.review.shares import share_rows


def render_facts(render: CutRender) -> dict[str, Any]:
    """The windows it used (with their takes, where they still exist) and its joins, in the
    order of the clip's timeline."""
    from studio.models import Take

    planned = render.plan.get("windows", [])
    takes = {
        t.code: t
        for t in Take.objects.filter(
            project=render.cut.project, code__in=[w["take"] for w in planned]
        )
    }
    windows = [
        {
            "number": number,
            "start": w["start"],
            "end": w["end"],
            "take": takes.get(w["take"]),
            "take_code": w["take"],
            "take_sound": w.get("take_sound", False),
            "colour_match": w.get("colour_match", False),
        }
        for number, w in enumerate(planned, start=1)
    ]
    seams = [
        {**seam, "window_number": int(seam.get("window", 0)) + 1}
        for seam in sorted(render.seams, key=lambda s: s.get("at", 0))
    ]
    return {"windows": windows, "seams": seams, "source_kept": render.plan.get("source_kept", [])}


def render_page_context(
    request: AuthenticatedHttpRequest,
    render: CutRender,
    membership: Membership,
    share_form: ShareLinkForm | None = None,
) -> dict[str, Any]:
    cut = render.cut
    clip = cut.clip
    context: dict[str, Any] = {
        "render": render,
        "cut": cut,
        "clip": clip,
        "project": cut.project,
        "membership": membership,
        "ready": render.state == RenderState.READY and bool(render.file),
        # Frames are the source's: the render is made at the clip's own rate.
        "fps": subject_fps(clip=clip),
        "duration": render.duration or clip.duration or 0,
        **render_facts(render),
        "comment_panel": None,
        "share_form": share_form or ShareLinkForm(),
    }
    context["share_rows"] = []
    if membership.can_edit:  # as on a take's page (studio.takes.pages)
        links = list(render.share_links.select_related("created_by"))
        new = request.session.pop("share-new", "")
        context["share_rows"] = share_rows(request, links, membership=membership, new_code=new)
    if context["ready"]:
        context["comment_panel"] = comment_panel(request, render=render, membership=membership)
    return context
