"""A migration operation for one django-q2 schedule, so each app's schedule migration is one line.

    operations = [schedule("gallery-purge-trash", "gallery.tasks.purge_trash", schedule_type="D")]

Forwards it adds the schedule (or sets it to these values if one of that name is there);
backwards it removes it. Schedules repeat for ever unless `repeats` says otherwise.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def schedule(name: str, func: str, **fields: Any) -> migrations.RunPython:
    defaults = {"func": func, "repeats": -1, **fields}

    def add(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.update_or_create(name=name, defaults=defaults)

    def remove(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.filter(name=name).delete()

    return migrations.RunPython(add, remove)
