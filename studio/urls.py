"""Every page's address, grouped by the domain whose views answer it."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from studio.cuts import export_views, render_views
from studio.cuts import views as cuts
from studio.governance import admin_views, usage_views
from studio.library import views as library
from studio.ops import views as ops
from studio.projects import trash_views
from studio.projects import views as projects
from studio.provenance import views as provenance
from studio.review import comment_views, inbox_views, share_views
from studio.review import views as review
from studio.storage import views as storage
from studio.takes import credential_views
from studio.takes import views as takes

urlpatterns = [
    path("", projects.home, name="home"),
    path("healthz", ops.healthz, name="healthz"),
    path("verify/", provenance.public_verify, name="verify"),
    path("t/<str:code>/verify/", provenance.team_verify, name="team_verify"),
    path("k/<str:code>/credentials/", provenance.take_credentials, name="take_credentials"),
    path(
        "x/<str:code>/v<int:number>/credentials/",
        provenance.render_credentials,
        name="render_credentials",
    ),
    path("t/<str:code>/", projects.team_detail, name="team_detail"),
    path("t/<str:code>/projects/", projects.project_new, name="project_new"),
    path("p/<str:code>/", projects.project_detail, name="project_detail"),
    path("p/<str:code>/settings/", projects.project_settings, name="project_settings"),
    path("p/<str:code>/archive/", projects.project_archive_toggle, name="project_archive"),
    path("p/<str:code>/library/", projects.project_library, name="project_library"),
    path("p/<str:code>/clips/", library.clip_upload, name="clip_upload"),
    path("p/<str:code>/references/", library.reference_upload, name="reference_upload"),
    path("c/<str:code>/", library.clip_detail, name="clip_detail"),
    path("c/<str:code>/player/", library.clip_player, name="clip_player"),
    path("c/<str:code>/upload/", library.clip_upload_status, name="clip_upload_status"),
    path("c/<str:code>/takes/", library.clip_takes, name="clip_takes"),
    path("c/<str:code>/delete/", library.clip_remove, name="clip_delete"),
    path("c/<str:code>/restore/", trash_views.clip_restore_view, name="clip_restore"),
    path(
        "c/<str:code>/delete-for-good/",
        trash_views.clip_delete_for_good_view,
        name="clip_delete_for_good",
    ),
    path("c/<str:code>/edit/", takes.take_new, name="take_new"),
    path("c/<str:code>/cuts/", cuts.cut_new, name="cut_new"),
    path("x/<str:code>/", cuts.cut_detail, name="cut_detail"),
    path("x/<str:code>/split/", cuts.cut_split, name="cut_split"),
    path("x/<str:code>/edit/", cuts.cut_edit, name="cut_edit"),
    path("x/<str:code>/windows/", cuts.window_add, name="window_add"),
    path("x/<str:code>/renders/", cuts.cut_renders, name="cut_renders"),
    path("x/<str:code>/render/", cuts.cut_render_new, name="cut_render_new"),
    path("x/<str:code>/export/<str:fmt>/", export_views.cut_export, name="cut_export"),
    path("x/<str:code>/v<int:number>/", render_views.render_detail, name="render_detail"),
    path("x/<str:code>/v<int:number>/delete/", render_views.render_delete, name="render_delete"),
    path("x/<str:code>/v<int:number>/status/", render_views.render_status, name="render_status"),
    path(
        "x/<str:code>/v<int:number>/sign/", render_views.render_sign_again, name="render_sign_again"
    ),
    path(
        "x/<str:code>/v<int:number>/credentials/status/",
        render_views.render_credentials_status,
        name="render_credentials_status",
    ),
    path(
        "x/<str:code>/v<int:number>/share/",
        share_views.render_share_create,
        name="render_share_create",
    ),
    path("x/<str:code>/w/<int:pk>/", cuts.window_move, name="window_move"),
    path("x/<str:code>/w/<int:pk>/remove/", cuts.window_remove, name="window_remove"),
    path("x/<str:code>/w/<int:pk>/choose/", cuts.window_choose, name="window_choose"),
    path("x/<str:code>/w/<int:pk>/settings/", cuts.window_settings, name="window_settings"),
    path("k/<str:code>/", takes.take_detail, name="take_detail"),
    path("k/<str:code>/status/", takes.take_status, name="take_status"),
    path("k/<str:code>/cancel/", takes.take_cancel, name="take_cancel"),
    path("k/<str:code>/again/", takes.take_again, name="take_again"),
    path("k/<str:code>/variations/", takes.take_variations, name="take_variations"),
    path("k/<str:code>/send-again/", takes.take_send_again, name="take_send_again"),
    path("k/<str:code>/adopt/", takes.take_adopt, name="take_adopt"),
    path("k/<str:code>/save-again/", takes.take_save_again, name="take_save_again"),
    path("k/<str:code>/star/", takes.take_star, name="take_star"),
    path("k/<str:code>/describe/", takes.take_describe, name="take_describe"),
    path("k/<str:code>/share/", share_views.share_create, name="share_create"),
    path("k/<str:code>/export/", takes.take_export, name="take_export"),
    path("k/<str:code>/sign/", credential_views.take_sign_again, name="take_sign_again"),
    path(
        "k/<str:code>/credentials/status/",
        credential_views.take_credentials_status,
        name="take_credentials_status",
    ),
    path("k/<str:code>/label/", takes.take_label, name="take_label"),
    path("k/<str:code>/label/status/", takes.take_label_status, name="take_label_status"),
    path("k/<str:code>/delete/", takes.take_delete, name="take_delete"),
    path("k/<str:code>/restore/", trash_views.take_restore_view, name="take_restore"),
    path(
        "k/<str:code>/delete-for-good/",
        trash_views.take_delete_for_good_view,
        name="take_delete_for_good",
    ),
    path("k/<str:code>/export/status/", takes.take_export_status, name="take_export_status"),
    path("shares/<str:code>/revoke/", share_views.share_revoke, name="share_revoke"),
    path("shares/<str:code>/renew/", share_views.share_renew, name="share_renew"),
    path("t/<str:code>/gallery/", takes.team_gallery, name="team_gallery"),
    path("t/<str:code>/gallery/bulk/", takes.gallery_bulk, name="gallery_bulk"),
    path("t/<str:code>/activity/", projects.team_activity, name="team_activity"),
    path("t/<str:code>/trash/", trash_views.team_trash, name="team_trash"),
    path("t/<str:code>/trash/empty/", trash_views.team_trash_empty, name="team_trash_empty"),
    path("t/<str:code>/usage/", usage_views.team_usage, name="team_usage"),
    path("t/<str:code>/usage.csv", usage_views.team_usage_csv, name="team_usage_csv"),
    path("t/<str:code>/budget/", usage_views.team_budget, name="team_budget"),
    path(
        "t/<str:code>/members/<uuid:member>/budget/",
        usage_views.member_budget,
        name="member_budget",
    ),
    path("p/<str:code>/budget/", usage_views.project_budget, name="project_budget"),
    path("s/<str:token>/", share_views.share_page, name="share_page"),
    path("s/<str:token>/media/<str:variant>", share_views.share_media, name="share_media"),
    path("s/<str:token>/comments/", share_views.share_comments, name="share_comments"),
    path(
        "s/<str:token>/comments/<str:code>/reply/",
        share_views.share_comment_reply,
        name="share_comment_reply",
    ),
    path("r/<str:code>/delete/", library.reference_remove, name="reference_delete"),
    path("r/<str:code>/upload/", library.reference_upload_status, name="reference_upload_status"),
    path("media/<str:kind>/<str:code>/<str:variant>", storage.media_file, name="media_file"),
    path("provider-media/<str:token>", storage.provider_media, name="provider_media"),
    path("administration/", admin_views.administration, name="administration"),
    path("administration/signup/", admin_views.administration_signup, name="administration_signup"),
    path(
        "administration/held/approve/",
        admin_views.administration_held_approve,
        name="administration_held_approve",
    ),
    path(
        "administration/held/refuse/",
        admin_views.administration_held_refuse,
        name="administration_held_refuse",
    ),
    path("administration/budget/", admin_views.administration_budget, name="administration_budget"),
    path("administration/administrators/", admin_views.administrator_add, name="administrator_add"),
    path(
        "administration/administrators/remove/",
        admin_views.administrator_remove,
        name="administrator_remove",
    ),
    path(
        "administration/t/<str:code>/limits/",
        admin_views.administration_team_limits,
        name="administration_team_limits",
    ),
    path(
        "administration/t/<str:code>/suspend/",
        admin_views.administration_team_suspend,
        name="administration_team_suspend",
    ),
    path(
        "administration/t/<str:code>/lift/",
        admin_views.administration_team_lift,
        name="administration_team_lift",
    ),
    # Review: comments at a frame (studio/review/comment_views.py).
    path("k/<str:code>/comments/", comment_views.take_comments, name="take_comments"),
    path(
        "k/<str:code>/comments/new/", comment_views.take_comment_create, name="take_comment_create"
    ),
    path("c/<str:code>/comments/", comment_views.clip_comments, name="clip_comments"),
    path(
        "c/<str:code>/comments/new/", comment_views.clip_comment_create, name="clip_comment_create"
    ),
    path("comments/<str:code>/reply/", comment_views.comment_reply, name="comment_reply"),
    path("comments/<str:code>/edit/", comment_views.comment_edit, name="comment_edit"),
    path("comments/<str:code>/delete/", comment_views.comment_delete, name="comment_delete"),
    path("comments/<str:code>/resolve/", comment_views.comment_resolve, name="comment_resolve"),
    path("comments/<str:code>/hide/", comment_views.comment_hide, name="comment_hide"),
    path(
        "k/<str:code>/comments.csv",
        comment_views.take_comments_export,
        {"fmt": "csv"},
        name="take_comments_csv",
    ),
    path(
        "k/<str:code>/comments.edl",
        comment_views.take_comments_export,
        {"fmt": "edl"},
        name="take_comments_edl",
    ),
    path(
        "k/<str:code>/comments.xml",
        comment_views.take_comments_export,
        {"fmt": "xml"},
        name="take_comments_xml",
    ),
    path(
        "x/<str:code>/v<int:number>/comments/",
        comment_views.render_comments,
        name="render_comments",
    ),
    path(
        "x/<str:code>/v<int:number>/comments/new/",
        comment_views.render_comment_create,
        name="render_comment_create",
    ),
    *(
        path(
            f"x/<str:code>/v<int:number>/comments.{fmt}",
            comment_views.render_comments_export,
            {"fmt": fmt},
            name=f"render_comments_{fmt}",
        )
        for fmt in ("csv", "edl", "xml")
    ),
    path("for-you/", inbox_views.for_you, name="for_you"),
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("inbox/read/", inbox_views.inbox_read_all, name="inbox_read_all"),
    path("inbox/settings/", inbox_views.inbox_settings, name="inbox_settings"),
    path("inbox/<str:code>/", inbox_views.inbox_open, name="inbox_open"),
    path("inbox/<str:code>/read/", inbox_views.inbox_read, name="inbox_read"),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
]

# Review: approvals, version stacks and the variation grid (studio/review/views.py).
urlpatterns += [
    path("k/<str:code>/review/", review.take_review, name="take_review"),
    path("x/<str:code>/v<int:number>/review/", review.render_review, name="render_review"),
    path("k/<str:code>/cell/", review.take_grid_cell, name="take_grid_cell"),
    path("c/<str:code>/compare/", review.clip_compare, name="clip_compare"),
    path("c/<str:code>/grid/", review.clip_grid, name="clip_grid"),
]
