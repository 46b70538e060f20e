"""Every day, delete webhook events older than 30 days whose deliveries are all finished."""

from django.db import migrations

NAME, FUNC = "webhooks-purge-old", "webhooks.tasks.purge_old"


def add(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME, defaults={"func": FUNC, "schedule_type": "D", "repeats": -1})


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_deliver_due_schedule")]

    operations = [migrations.RunPython(add, remove)]
