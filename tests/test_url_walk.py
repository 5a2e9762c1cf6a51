"""Walk every URL pattern as an outsider (dave) and as a viewer (carol).

Every named route must be listed in ROUTES, so a new view cannot slip in unchecked.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Membership
from accounts.services import invitation_create
from studio.models import (
    Clip,
    Comment,
    Cut,
    CutRender,
    CutWindow,
    InputClip,
    MediaState,
    Reference,
    ShareLink,
    TakeState,
)
from studio.storage.views import MEDIA

pytestmark = pytest.mark.django_db

PUBLIC = "public"  # anyone, signed in or not
USER = "user"  # any signed-in user; acts on their own account only
ADMINISTRATOR = "administrator"  # the instance's administrators only: 404 for everyone else

# name -> (scope, need). Scope "team"/"project" routes go through the access helpers.
ROUTES: dict[str, tuple[str, str | None]] = {
    "home": (PUBLIC, None),
    "healthz": (PUBLIC, None),
    "verify": (PUBLIC, None),
    "team_verify": ("team", "view"),
    "take_credentials": ("take", "view"),
    "render_credentials": ("render", "view"),
    "signup": (PUBLIC, None),
    "signup_sent": (PUBLIC, None),
    "signup_finish": (PUBLIC, None),
    "login": (PUBLIC, None),
    "logout": (PUBLIC, None),
    "password_reset": (PUBLIC, None),
    "password_reset_done": (PUBLIC, None),
    "password_reset_confirm": (PUBLIC, None),
    "password_reset_complete": (PUBLIC, None),
    "invite_accept": (PUBLIC, None),
    "account_settings": (USER, None),
    "password_change": (USER, None),
    "password_change_done": (USER, None),
    "team_list": (USER, None),
    "team_switch": ("team", "view"),
    "team_detail": ("team", "view"),
    "team_members": ("team", "view"),
    "team_leave": ("team", "view"),
    "team_settings": ("team", "own"),
    "team_provenance": ("team", "own"),
    "member_role": ("team", "own"),
    "member_remove": ("team", "own"),
    "team_former_shares_revoke": ("team", "own"),
    "invite_create": ("team", "own"),
    "invite_revoke": ("team", "own"),
    "project_new": ("team", "edit"),
    "project_detail": ("project", "view"),
    "project_settings": ("project", "edit"),
    "project_archive": ("project", "edit"),
    "project_library": ("project", "view"),
    "clip_upload": ("project", "edit"),
    "clip_upload_status": ("clip", "view"),
    "reference_upload_status": ("reference", "view"),
    "reference_upload": ("project", "edit"),
    "clip_detail": ("clip", "view"),
    "clip_player": ("clip", "view"),
    "clip_takes": ("clip", "view"),
    "clip_delete": ("clip", "edit"),
    "clip_restore": ("clip", "edit"),
    "clip_delete_for_good": ("clip", "edit"),
    "take_delete": ("take", "edit"),
    "take_restore": ("take", "edit"),
    "take_delete_for_good": ("take", "edit"),
    "team_trash": ("team", "view"),
    "team_trash_empty": ("team", "edit"),
    "reference_delete": ("reference", "edit"),
    "media_file": ("media", "view"),
    "provider_media": (PUBLIC, None),
    "take_new": ("clip", "edit"),
    "take_detail": ("take", "view"),
    "take_status": ("take", "view"),
    "take_cancel": ("take", "edit"),
    "take_again": ("take", "edit"),
    "take_variations": ("take", "edit"),
    "take_send_again": ("take", "edit"),
    "take_adopt": ("take", "edit"),
    "take_save_again": ("take", "edit"),
    "take_sign_again": ("take", "edit"),
    "take_credentials_status": ("take", "view"),
    "take_star": ("take", "view"),
    "take_describe": ("take", "edit"),
    "take_export": ("take", "edit"),
    "take_export_status": ("take", "view"),
    "take_label": ("take", "view"),
    "take_label_status": ("take", "view"),
    "render_status": ("render", "view"),
    "share_create": ("take", "edit"),
    "share_revoke": ("share", "edit"),
    "share_renew": ("share", "edit"),
    "team_gallery": ("team", "view"),
    "gallery_bulk": ("team", "view"),  # each action checks the role it needs (bulk.py)
    "team_activity": ("team", "view"),
    "team_usage": ("team", "view"),
    "team_usage_csv": ("team", "view"),
    "team_budget": ("team", "own"),
    "member_budget": ("team", "own"),
    "project_budget": ("project", "own"),
    "share_page": (PUBLIC, None),
    "share_media": (PUBLIC, None),
    "share_comments": (PUBLIC, None),
    "share_comment_reply": (PUBLIC, None),
    "administration": (ADMINISTRATOR, None),
    "administration_signup": (ADMINISTRATOR, None),
    "administration_held_approve": (ADMINISTRATOR, None),
    "administration_held_refuse": (ADMINISTRATOR, None),
    "administration_budget": (ADMINISTRATOR, None),
    "administrator_add": (ADMINISTRATOR, None),
    "administrator_remove": (ADMINISTRATOR, None),
    "administration_team_limits": (ADMINISTRATOR, None),
    "administration_team_suspend": (ADMINISTRATOR, None),
    "administration_team_lift": (ADMINISTRATOR, None),
    "take_review": ("take", "edit"),
    "take_grid_cell": ("take", "view"),
    "clip_compare": ("clip", "view"),
    "clip_grid": ("clip", "view"),
    # Comments: viewers comment and reply (they review); editing and deleting are the
    # author's own (others get a message, not a change); resolving and hiding need an editor.
    "take_comments": ("take", "view"),
    "take_comment_create": ("take", "view"),
    "clip_comments": ("clip", "view"),
    "clip_comment_create": ("clip", "view"),
    "comment_reply": ("comment", "view"),
    "comment_edit": ("comment", "view"),
    "comment_delete": ("comment", "view"),
    "comment_resolve": ("comment", "edit"),
    "comment_hide": ("comment", "edit"),
    "take_comments_csv": ("take", "view"),
    "take_comments_edl": ("take", "view"),
    "take_comments_xml": ("take", "view"),
    "for_you": (USER, None),
    "inbox": (USER, None),
    "inbox_read_all": (USER, None),
    "inbox_settings": (USER, None),
    "inbox_open": (USER, None),
    "inbox_read": (USER, None),
    "cut_new": ("clip", "edit"),
    "cut_detail": ("cut", "view"),
    "cut_split": ("cut", "edit"),
    "cut_edit": ("cut", "edit"),
    "window_add": ("cut", "edit"),
    "window_move": ("cut", "edit"),
    "window_remove": ("cut", "edit"),
    "window_choose": ("cut", "edit"),
    "window_settings": ("cut", "edit"),
    "cut_renders": ("cut", "view"),
    "cut_render_new": ("cut", "edit"),
    "cut_export": ("cut", "view"),
    "render_detail": ("render", "view"),
    "render_comments": ("render", "view"),
    "render_comment_create": ("render", "view"),
    "render_comments_csv": ("render", "view"),
    "render_comments_edl": ("render", "view"),
    "render_comments_xml": ("render", "view"),
    "render_review": ("render", "edit"),
    "render_share_create": ("render", "edit"),
    "render_delete": ("render", "edit"),
    "render_sign_again": ("render", "edit"),
    "render_credentials_status": ("render", "view"),
}
# Views that send a member elsewhere when the query names nothing to show (here: back to the
# clip page's version stack, saying why).
REDIRECTS = {"clip_compare", "clip_grid"}
SCOPED = {
    "team",
    "project",
    "clip",
    "reference",
    "media",
    "take",
    "share",
    "comment",
    "cut",
    "render",
}


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            found += _patterns(entry, prefix + str(entry.pattern))
        elif entry.name:
            found.append((prefix + str(entry.pattern), entry))
    return found


def test_every_route_is_classified():
    names = {pattern.name for _, pattern in _patterns(get_resolver())}
    assert names == set(ROUTES), f"classify these routes in ROUTES: {names ^ set(ROUTES)}"


@pytest.fixture
def world(alice, bob, carol, team, project, make_take) -> dict[str, Any]:
    clip = Clip(
        project=project,
        original_name="beach.mp4",
        state=MediaState.READY,
        duration=12,
        fps=25,
        width=640,
        height=360,
    )
    clip.source.save("walk/source.mp4", ContentFile(b"not really a video"), save=False)
    clip.save()
    reference = Reference(project=project, original_name="style.png", state=MediaState.READY)
    reference.image.save("walk/style.png", ContentFile(b"not really an image"), save=False)
    reference.save()
    take = make_take(TakeState.QUEUED, clip=clip, created_by=None, length_ms=2000)
    share = ShareLink.objects.create(take=take, token_hash="x" * 64)
    comment = Comment.objects.create(take=take, author=alice, body="Too dark", frame=0, fps=25)
    invitation, token = invitation_create(team=team, role="editor", created_by=alice)
    cut = Cut.objects.create(project=project, clip=clip, name="Clay", created_by=alice)
    window = CutWindow.objects.create(cut=cut, start=0, end=4)
    render = CutRender.objects.create(cut=cut, number=1, state="ready")
    return {
        "cut": cut,
        "render": render,
        "window": window.pk,
        "take": take,
        "share": share,
        "comment": comment,
        "team": team,
        "project": project,
        "clip": clip,
        "reference": reference,
        "member": Membership.objects.get(user=bob, team=team).code,
        "invite": invitation.code,
        "token": token,
    }


def _kwargs(name: str, route: str, world: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if "<str:code>" in route:
        scope = ROUTES[name][0]
        owner = {"media": "clip", "render": "cut"}.get(scope, scope)
        kwargs["code"] = world[owner].code
    if "<str:kind>" in route:
        kwargs.update(kind="clip", variant="source")
    for key in ("member", "invite", "token"):
        if f":{key}>" in route or f"<{key}>" in route:
            kwargs[key] = world[key]
    if "<str:fmt>" in route:
        kwargs["fmt"] = "otio"
    if "<int:number>" in route:
        kwargs["number"] = world["render"].number
    if "<int:pk>" in route:
        kwargs["pk"] = world["window"]
    if "<uidb64>" in route:
        kwargs.update(uidb64="MQ", token="set-password")
    return kwargs


def _team_routes() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in _patterns(get_resolver()) if ROUTES[p.name][0] in SCOPED]


def _url(pattern: URLPattern, route: str, world: dict[str, Any]) -> str:
    from django.urls import reverse

    return reverse(pattern.name, kwargs=_kwargs(pattern.name, route, world))


def _post_data(name: str, world: dict[str, Any]) -> dict[str, str]:
    return {"team": world["team"].code, "role": "viewer", "name": "Renamed"}


@pytest.mark.parametrize("route_pattern", _team_routes(), ids=lambda rp: rp[1].name)
def test_outsider_gets_404(route_pattern, world, as_dave):
    route, pattern = route_pattern
    url = _url(pattern, route, world)
    post = as_dave.post(url, _post_data(pattern.name, world))
    get = as_dave.get(url)
    assert post.status_code in {404, 405}
    assert get.status_code in {404, 405}
    assert 404 in {post.status_code, get.status_code}


@pytest.mark.parametrize("route_pattern", _team_routes(), ids=lambda rp: rp[1].name)
def test_viewer_gets_403_where_role_is_too_low(route_pattern, world, as_carol):
    route, pattern = route_pattern
    url = _url(pattern, route, world)
    need = ROUTES[pattern.name][1]
    post = as_carol.post(url, _post_data(pattern.name, world))
    if need == "view":
        assert post.status_code in {200, 302, 405}
        get = as_carol.get(url)
        assert get.status_code in ({200, 405, 302} if pattern.name in REDIRECTS else {200, 405})
    else:
        assert post.status_code == 403
        assert as_carol.get(url).status_code in {403, 405}


def _media_owner(kind: str, world: dict[str, Any]) -> Any:
    if kind == "input":
        return InputClip.objects.create(
            clip=world["clip"],
            start_ms=0,
            length_ms=2000,
            file="walk/input.mp4",
            width=320,
            height=240,
            duration=2.0,
            size=1,
            sha256="0" * 64,
        )
    if kind == "render":
        return world["render"]
    return world[{"ref": "reference"}.get(kind, kind)]


@pytest.mark.parametrize(
    ("kind", "variant"), [(k, v) for k, (_, _, variants) in MEDIA.items() for v in variants]
)
def test_every_media_variant_is_for_members_only(kind, variant, world, as_dave, as_carol):
    """The walk above uses one media variant; every variant (thumbnails too) is checked here."""
    owner = _media_owner(kind, world)
    if variant.startswith("seam-"):  # a render's join pictures are named in its seams
        name = default_storage.save(f"walk/{kind}-{variant}.jpg", ContentFile(b"x"))
        owner.seams = [{"window": 0, "edge": "in", "at": 1.0, "score": 3.0, "flagged": False}]
        owner.seams[0][variant.rsplit("-", 1)[1]] = name
    else:
        getattr(owner, variant).save(f"walk/{kind}-{variant}.bin", ContentFile(b"x"), save=False)
    owner.save()
    url = reverse("media_file", args=[kind, owner.code, variant])
    assert as_dave.get(url).status_code == 404
    assert as_carol.get(url).status_code == 200


@pytest.mark.parametrize(
    "name", [n for n, (scope, _) in ROUTES.items() if scope == USER and n != "logout"]
)
def test_user_routes_require_sign_in(name, client, world):
    from django.urls import reverse

    # An inbox item's code is the person's own: any code will do to be asked to sign in.
    kwargs = {"code": "anything"} if name in ("inbox_open", "inbox_read") else {}
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302 and "/accounts/login/" in response.url


@pytest.mark.parametrize("name", [n for n, (scope, _) in ROUTES.items() if scope == ADMINISTRATOR])
def test_administrator_routes_are_404_for_everyone_else(name, world, client, as_carol, as_dave):
    """alice, the first account, administers; a viewer, an outsider and the signed-out get 404,
    as if the page did not exist."""
    route = next(r for r, p in _patterns(get_resolver()) if p.name == name)
    url = reverse(name, kwargs={"code": world["team"].code} if "<str:code>" in route else {})
    for other in (client, as_carol, as_dave):
        get = other.get(url).status_code
        post = other.post(url, {"mode": "open", "email": "dave@example.com"}).status_code
        assert {get, post} <= {404, 405} and 404 in {get, post}
