"""The clean-up that closes holds of finished generations now runs from the generations app."""

from django.db import migrations

OLD = ("credits-close-finished-holds", "credits.tasks.close_finished_holds_task")
NEW = ("generations-close-finished-holds", "generations.tasks.close_finished_holds")


def move(apps, schema_editor, old=OLD, new=NEW):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=old[0]).delete()
    Schedule.objects.update_or_create(
        name=new[0], defaults={"func": new[1], "schedule_type": "I", "minutes": 10, "repeats": -1},
    )


def move_back(apps, schema_editor):
    move(apps, schema_editor, old=NEW, new=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0005_models_move_to_assets_and_gallery"),
        ("credits", "0002_schedules"),
    ]

    operations = [migrations.RunPython(move, move_back)]
