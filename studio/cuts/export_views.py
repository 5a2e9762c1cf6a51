"""Export a cut for editing software: OpenTimelineIO, FCP 7 XML, CMX 3600 EDL, or a zip of the
three with the media. Anyone in the team who can see the cut can export it.

Without `?render=<code>` the export is the cut as it stands (the chosen takes; a window without
one is the source); with it, exactly what that ready render used."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from studio.core.errors import Refused
from studio.cuts import bundles
from studio.cuts.access import cut_for
from studio.cuts.models import RenderState


@login_required
@require_GET
def cut_export(request: AuthenticatedHttpRequest, code: str, fmt: str) -> HttpResponseBase:
    cut, _ = cut_for(request, code)
    if fmt not in (*bundles.FORMATS, "zip"):
        raise Http404("No such export format.")
    render = None
    if "render" in request.GET:
        render = cut.renders.filter(code=request.GET["render"], state=RenderState.READY).first()
        if render is None:
            raise Http404("No such ready render of this cut.")
    try:
        export = bundles.cut_export(cut=cut, render=render, with_media=fmt == "zip")
    except Refused as refused:
        messages.error(request, str(refused))  # shown at the top of the page
        return redirect("cut_detail", code=cut.code)
    name = f"{export.stem}.{fmt}"
    if fmt == "zip":
        stream = bundles.export_zip(export)
        response: HttpResponseBase = StreamingHttpResponse(stream, content_type="application/zip")
        response["Content-Length"] = str(len(stream))
    else:
        response = HttpResponse(export.text(fmt), content_type=bundles.FORMATS[fmt][0])
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
