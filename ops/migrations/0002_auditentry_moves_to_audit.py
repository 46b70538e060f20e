"""The audit log now belongs to the audit app (its table is kept as it is)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("ops", "0001_initial"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
