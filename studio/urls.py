from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from studio.views import health, home, projects

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("t/<str:code>/", home.team_detail, name="team_detail"),
    path("t/<str:code>/projects/", projects.project_new, name="project_new"),
    path("p/<str:code>/", projects.project_detail, name="project_detail"),
    path("p/<str:code>/settings/", projects.project_settings, name="project_settings"),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
]
