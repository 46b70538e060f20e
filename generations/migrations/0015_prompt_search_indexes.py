"""Prompt search at scale on PostgreSQL: a stored search vector and indexes; SQLite has no use for them.

The gallery's search matches each word as typed (`icontains`, which PostgreSQL runs as
`UPPER(prompt) LIKE UPPER('%word%')`) or, widened by full-text search, in any of its English
forms. For the second, each generation keeps its prompt's text-search vector in
`prompt_search`, written by a trigger whenever the prompt is (so a search never computes one
per row), with a GIN index over it; a trigram GIN index serves the first. The planner can then
combine the two (a BitmapOr) instead of reading every prompt of a large project. On SQLite the
column exists but stays empty and unread. pg_trgm is a trusted extension: a database owner may
create it.
"""

import django.contrib.postgres.search
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION generations_prompt_search() RETURNS trigger AS $$
BEGIN
  NEW.prompt_search := to_tsvector('english'::regconfig, COALESCE(NEW.prompt, ''));
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""
TRIGGER = """
CREATE TRIGGER generation_prompt_search BEFORE INSERT OR UPDATE OF prompt, prompt_search
ON generations_generation FOR EACH ROW EXECUTE FUNCTION generations_prompt_search()
"""
INDEXES = [
    ("generation_prompt_words", "USING gin ((UPPER((prompt)::text)) gin_trgm_ops)"),
    ("generation_prompt_search", "USING gin (prompt_search)"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(FUNCTION)
    schema_editor.execute(TRIGGER)
    schema_editor.execute("UPDATE generations_generation SET prompt_search = "
                          "to_tsvector('english'::regconfig, COALESCE(prompt, ''))")
    for name, how in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON generations_generation {how}")


def drop(apps, schema_editor):
    # The extension stays: other indexes of the database may use it.
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP TRIGGER IF EXISTS generation_prompt_search ON generations_generation")
    schema_editor.execute("DROP FUNCTION IF EXISTS generations_prompt_search()")


class Migration(migrations.Migration):
    dependencies = [("generations", "0014_output_trash")]

    operations = [
        migrations.AddField(
            model_name="generation",
            name="prompt_search",
            field=django.contrib.postgres.search.SearchVectorField(
                editable=False, null=True,
                help_text="The prompt's text-search vector, written by the database (PostgreSQL only)"),
        ),
        migrations.RunPython(create, drop),
    ]
