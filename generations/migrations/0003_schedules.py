from django.db import migrations


def add_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="generations-watchdog",
        defaults={"func": "generations.tasks.watchdog", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="generations-watchdog").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0002_lease"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add_schedules, remove_schedules)]
