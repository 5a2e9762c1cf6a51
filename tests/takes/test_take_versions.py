"""A take's version: v1, v2, v3… among its clip's takes, never given twice (docs/takes.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from studio.models import Clip, Take


@pytest.mark.django_db
def test_each_take_of_a_clip_gets_the_next_version_never_reused(make_take: Any, project: Any):
    first, second = make_take(), make_take()
    assert (first.version, second.version) == (1, 2)
    assert second.version_label == "v2"
    second.delete()
    third = make_take()
    assert third.version == 3  # v2 is not given again after it was deleted
    other_clip_take = make_take(clip=Clip.objects.create(project=project, original_name="b.mp4"))
    assert other_clip_take.version == 1  # numbered per clip


@pytest.mark.django_db
def test_a_take_without_a_clip_has_no_version(make_take: Any):
    take = make_take(clip=None)
    assert take.version == 0 and take.version_label == ""


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_existing_takes_in_the_order_they_were_made(make_take: Any):
    late, early = make_take(), make_take()
    Take.objects.filter(pk=late.pk).update(created_at=early.created_at.replace(year=2030))
    Take.objects.update(version=0)
    Clip.objects.update(takes_asked=0)
    executor = MigrationExecutor(connection)
    executor.migrate([("studio", "0026_cut_renders_asked")])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("studio", "0027_take_version")])
    # The models as of that migration: today's have fields that later migrations add.
    apps = executor.loader.project_state(("studio", "0027_take_version")).apps
    try:
        versions = dict(apps.get_model("studio", "Take").objects.values_list("pk", "version"))
        assert versions == {early.pk: 1, late.pk: 2}
        assert apps.get_model("studio", "Clip").objects.get().takes_asked == 2
    finally:  # the tests after this one need today's tables
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
