"""Asset moves from the generations app to its own app; its table and rows stay where they are."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import assets.models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="assets", model="asset").exists():
        ContentType.objects.filter(app_label="generations", model="asset").update(app_label="assets")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="generations", model="asset").exists():
        ContentType.objects.filter(app_label="assets", model="asset").update(app_label="generations")


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
                    name="Asset",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[("image", "Image"), ("video", "Video"), ("audio", "Audio")], max_length=10)),
                        ("content_type", models.CharField(max_length=100)),
                        ("size", models.BigIntegerField()),
                        ("width", models.PositiveIntegerField(blank=True, null=True)),
                        ("height", models.PositiveIntegerField(blank=True, null=True)),
                        ("duration", models.FloatField(blank=True, help_text="Seconds", null=True)),
                        ("sha256", models.CharField(max_length=64)),
                        ("thumbnail", models.FileField(blank=True, max_length=300, upload_to=assets.models.thumb_key)),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("file", models.FileField(max_length=300, upload_to=assets.models.asset_key)),
                        ("name", models.CharField(max_length=255)),
                        ("runway_uri", models.CharField(blank=True, max_length=5000)),
                        ("runway_uri_expires_at", models.DateTimeField(blank=True, null=True)),
                        ("project", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="assets", to="accounts.project")),
                        ("source_output", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="reused_as", to="generations.output")),
                        ("uploaded_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"ordering": ["-created_at"], "db_table": "generations_asset"},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
