"""Every hour, the email digest of those who asked for one."""

from django.db import migrations

from core.schedules import schedule

NAME, FUNC = "notifications-send-digests", "notifications.tasks.send_digests"


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [schedule(NAME, FUNC, schedule_type="H")]
