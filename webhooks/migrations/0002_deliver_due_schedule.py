"""Every minute, send the webhook deliveries that are due: retries, and those a crash left claimed."""

from django.db import migrations

from core.schedules import schedule

NAME, FUNC = "webhooks-deliver-due", "webhooks.tasks.deliver_due"


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [schedule(NAME, FUNC, schedule_type="I", minutes=1)]
