"""The poller process replaces the self-queueing sweep job and its one-minute watchdog."""

from django.db import migrations, models


def drop_watchdog(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="generations-watchdog").delete()
    apps.get_model("generations", "Lease").objects.filter(name="poll-sweep").delete()


def restore_watchdog(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="generations-watchdog",
        defaults={"func": "generations.tasks.watchdog", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0007_bad_replies"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="lease", name="beat_at",
            field=models.DateTimeField(blank=True, help_text="When the holder last renewed it", null=True),
        ),
        migrations.AddField(
            model_name="lease", name="detail",
            field=models.JSONField(blank=True, default=dict, help_text="What the holder last reported"),
        ),
        migrations.RunPython(drop_watchdog, restore_watchdog),
    ]
