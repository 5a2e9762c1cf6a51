"""Trigram indexes for the gallery's search on PostgreSQL; nothing on SQLite.

The gallery searches the prompt, the title and the negative prompt with `icontains`, which
Django sends to PostgreSQL as `UPPER("column"::text) LIKE UPPER('%words%')`. A B-tree cannot
help a pattern with a leading `%`, so without these every search reads every take of the
instance. A trigram GIN index on exactly that expression can: each of the three conditions
gets its own index, and PostgreSQL combines them (BitmapOr) for the search's OR.

pg_trgm ships with PostgreSQL (Debian's postgresql package) and is a trusted extension since
PostgreSQL 13: the owner of the database may create it, no superuser needed.
"""

from django.db import migrations

COLUMNS = ("prompt", "title", "negative_prompt")


def index_name(column: str) -> str:
    return f"studio_take_{column}_trgm"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(column)} ON studio_take "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index_name(column)}")


class Migration(migrations.Migration):
    dependencies = [("studio", "0013_comment_changed_at")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
