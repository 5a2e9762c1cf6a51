"""Trigram indexes without a pending list: a search never reads unsorted recent entries.

A GIN index by default keeps new entries in a "pending list" that every search reads from end to
end until VACUUM (or the list reaching gin_pending_list_limit, 4 MB) moves them into the index.
Takes arrive at the pace of people, and autovacuum comes only after a fifth of the table has
changed, so on a large instance most searches paid for a full pending list: bench/scale.py
measured a three-word search over 100,000 takes at 51 ms in the database with the list full and
5 ms without it. With fastupdate off each new take goes straight into the index (a little more
work per insert, nothing beside a page render), and the list left from before is moved in now.
"""

from django.db import migrations

COLUMNS = ("prompt", "title", "negative_prompt")


def index_name(column: str) -> str:
    return f"studio_take_{column}_trgm"


def fastupdate_off(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER INDEX {index_name(column)} SET (fastupdate = off)")
        schema_editor.execute(f"SELECT gin_clean_pending_list('{index_name(column)}'::regclass)")


def fastupdate_on(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"ALTER INDEX {index_name(column)} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("studio", "0015_local_job")]

    operations = [migrations.RunPython(fastupdate_off, fastupdate_on, elidable=False)]
