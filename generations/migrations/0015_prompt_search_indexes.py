"""Indexes for prompt search on PostgreSQL; SQLite has no use for them and gets none.

The gallery's search matches each word as typed (`icontains`, which PostgreSQL runs as
`UPPER(prompt) LIKE UPPER('%word%')`) or, widened by full-text search, in any of its English
forms (`to_tsvector('english', prompt) @@ query`). A trigram GIN index serves the first and a
GIN index over the same text-search vector serves the second, so the planner can combine the
two (a BitmapOr) instead of reading every prompt of a large project. pg_trgm is a trusted
extension: a database owner may create it.
"""

from django.db import migrations

INDEXES = [
    ("generation_prompt_words",
     "USING gin ((UPPER((prompt)::text)) gin_trgm_ops)"),
    ("generation_prompt_fts",
     "USING gin (to_tsvector('english'::regconfig, COALESCE((prompt)::text, '')))"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, how in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON generations_generation {how}")


def drop(apps, schema_editor):
    # The extension stays: other indexes of the database may use it.
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("generations", "0014_output_trash")]

    operations = [migrations.RunPython(create, drop)]
