"""Number each clip's takes v1, v2, v3… in the order they were made (Take.version)."""

from django.db import migrations, models


def number_takes(apps, schema_editor):  # type: ignore[no-untyped-def]
    Clip = apps.get_model("studio", "Clip")
    Take = apps.get_model("studio", "Take")
    for clip in Clip.objects.all().iterator():
        number = 0
        for take in Take.objects.filter(clip=clip).order_by("created_at", "id").only("id"):
            number += 1
            Take.objects.filter(pk=take.pk).update(version=number)
        Clip.objects.filter(pk=clip.pk).update(takes_asked=number)


class Migration(migrations.Migration):
    dependencies = [
        ("studio", "0026_cut_renders_asked"),
    ]

    operations = [
        migrations.AddField(
            model_name="clip",
            name="takes_asked",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="take",
            name="version",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(number_takes, migrations.RunPython.noop),
    ]
