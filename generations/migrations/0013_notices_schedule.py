"""Every 10 minutes, write the notifications a crash kept from being written."""

from django.db import migrations

from core.schedules import schedule

NAME, FUNC = "generations-sweep-notices", "generations.tasks.sweep_notices"


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0012_variations"),
        ("notifications", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [schedule(NAME, FUNC, schedule_type="I", minutes=10)]
