"""Tags and share links move from the generations app to the gallery; tables and rows stay as they are."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import gallery.models

MOVED = ("tag", "sharelink")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="gallery", model=model).exists():
            ContentType.objects.filter(app_label="generations", model=model).update(app_label="gallery")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="generations", model=model).exists():
            ContentType.objects.filter(app_label="gallery", model=model).update(app_label="generations")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("generations", "0004_gallery_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Tag",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=40)),
                        ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="tags", to="accounts.project")),
                        ("outputs", models.ManyToManyField(blank=True, db_table="generations_output_tags", related_name="tags", to="generations.output")),
                    ],
                    options={
                        "ordering": ["name"],
                        "db_table": "generations_tag",
                        "constraints": [models.UniqueConstraint(fields=("project", "name"), name="tag_unique_per_project")],
                    },
                ),
                migrations.CreateModel(
                    name="ShareLink",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("token", models.CharField(default=gallery.models.new_share_token, editable=False, max_length=64, unique=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("output", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="share_links", to="generations.output")),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "db_table": "generations_sharelink",
                        "constraints": [models.UniqueConstraint(condition=models.Q(("revoked_at__isnull", True)), fields=("output",), name="one_active_share_link_per_output")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
