"""Every day, the outputs a month in the trash are deleted for good."""

from django.db import migrations

from core.schedules import schedule

NAME, FUNC = "gallery-purge-trash", "gallery.tasks.purge_trash"


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0002_boards"),
        ("generations", "0014_output_trash"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [schedule(NAME, FUNC, schedule_type="D")]
