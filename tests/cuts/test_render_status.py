"""A render's page follows the render while it is made (issue 23, item 6): its status part is a
partial the page polls until the render is ready, then shows the player and downloads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.models import CutRender, RenderState
from tests.cuts.rows import render_row

pytestmark = pytest.mark.django_db


def test_the_render_status_part_is_pending_until_ready(
    as_bob, as_carol, as_dave, project, bob, samples
):
    made = render_row(project, bob, samples)
    CutRender.objects.filter(pk=made.pk).update(state=RenderState.RENDERING)
    url = reverse("render_status", args=[made.cut.code, made.number])
    rendering = as_bob.get(url).content.decode()
    assert 'id="render-status"' in rendering and "data-pending" in rendering
    assert "it appears here when it is" in rendering
    CutRender.objects.filter(pk=made.pk).update(state=RenderState.READY)
    ready = as_carol.get(url).content.decode()
    assert "data-pending" not in ready and "data-compare" in ready and "Download" in ready
    assert as_dave.get(url).status_code == 404
    page = as_bob.get(reverse("render_detail", args=[made.cut.code, made.number])).content.decode()
    assert 'id="render-share-slot" data-live-region' in page
