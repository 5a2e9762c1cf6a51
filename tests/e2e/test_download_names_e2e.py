"""What a person's browser saves when they click the take page's download links."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page

from studio.models import Take
from tests.e2e.conftest import sign_in
from tests.e2e.test_take_page_e2e import second_take

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# harbour.mp4's takes: <clip>_v<n>_<start MM-SS-FF>_<end MM-SS-FF>_s<seed>.
NAME = re.compile(r"harbour_v(\d+)_00-02-00_00-06-00_s(\d+)(-sbs)?\.mp4")


def saved_name(page: Page, link: str) -> str:
    with page.expect_download() as download:
        page.get_by_role("link", name=link).click()
    return download.value.suggested_filename


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_two_takes_and_the_export_download_under_their_own_names(
    page: Page, live_server, bob, finished_take, width, height, console_errors
):
    other = second_take(finished_take, seed=410388421)
    Take.objects.filter(pk=finished_take.pk).update(
        export_state="ready", export_file=finished_take.result.name
    )
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server.url, bob.email)
    page.goto(f"{live_server.url}{reverse('take_detail', args=[finished_take.code])}")
    first = saved_name(page, "Download the result")
    export = saved_name(page, "Download side-by-side")
    page.goto(f"{live_server.url}{reverse('take_detail', args=[other.code])}")
    again = saved_name(page, "Download the result")
    assert NAME.fullmatch(first).groups() == ("1", "1", None), first
    assert NAME.fullmatch(again).groups() == ("2", "410388421", None), again
    assert export == first.removesuffix(".mp4") + "-sbs.mp4"
