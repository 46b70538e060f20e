"""Asset now belongs to the assets app, Tag and ShareLink to the gallery; no table changes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("generations", "0004_gallery_indexes"),
        ("assets", "0001_initial"),
        ("gallery", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="generation",
                    name="inputs",
                    field=models.ManyToManyField(blank=True, related_name="used_by", to="assets.asset"),
                ),
                migrations.RemoveField(model_name="output", name="tags"),
                migrations.RemoveField(model_name="asset", name="source_output"),
                migrations.DeleteModel(name="Asset"),
                migrations.DeleteModel(name="Tag"),
                migrations.DeleteModel(name="ShareLink"),
            ],
            database_operations=[],
        ),
    ]
