"""Every day, delete webhook events older than 30 days whose deliveries are all finished."""

from django.db import migrations

from core.schedules import schedule

NAME, FUNC = "webhooks-purge-old", "webhooks.tasks.purge_old"


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_deliver_due_schedule")]

    operations = [schedule(NAME, FUNC, schedule_type="D")]
