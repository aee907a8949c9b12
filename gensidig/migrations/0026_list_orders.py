import logging

from django.db import DatabaseError, migrations, models, transaction

logger = logging.getLogger(__name__)

# The people search matches with UPPER(column) LIKE UPPER('%words%') (Django's icontains). On
# PostgreSQL, trigram indexes on those same expressions let it find the matches without reading
# every person of the organisation. SQLite has no such index and reads them all, as before.
SEARCHED = ("name", "email", "unit")


def add_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for column in SEARCHED:
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS person_search_{column} ON gensidig_person "
                    f"USING gin (UPPER({column}::text) gin_trgm_ops)"
                )
    except DatabaseError as error:
        # Without the extension the search still works, reading every person as before.
        logger.warning("The people search indexes were not created: %s", error)


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED:
        schema_editor.execute(f"DROP INDEX IF EXISTS person_search_{column}")


class Migration(migrations.Migration):
    dependencies = [
        ("gensidig", "0025_rendered_cache"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="person",
            index=models.Index(fields=["organisation", "-active", "name", "id"], name="person_list_order"),
        ),
        migrations.AddIndex(
            model_name="team",
            index=models.Index(fields=["organisation", "active", "name", "id", "parent"], name="team_list_order"),
        ),
        migrations.RunPython(add_search_indexes, drop_search_indexes, elidable=False),
    ]
