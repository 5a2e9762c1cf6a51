"""Schedule the sweep that re-drives uploads whose task was lost (see studio.tasks.sweep)."""

from __future__ import annotations

from django.db import migrations


def add_schedule(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="studio-sweep",
        defaults={"func": "studio.tasks.sweep", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove_schedule(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name="studio-sweep").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0002_media"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(add_schedule, remove_schedule)]
