"""Leave nothing of the old design's history in the database files (DESIGN.md 2.1).

Before sealed ballots, every submission rewrote the counters, the comments and the invitations
of its round, and reminder batches kept lists of who had not answered. PostgreSQL keeps old row
versions until they are vacuumed, and a dropped column's bytes until its table is rewritten, so
this rewrites those tables (VACUUM FULL drops dead versions and nulls dropped columns). On SQLite,
secure_delete already zeroes freed pages; the write-ahead log is checkpointed and truncated so no
old page image stays in it. Backups and WAL archives made before the upgrade still hold the old
data: docs/deployment.md says to retire them.
"""

from django.db import migrations

TABLES = ("gensidig_reminderbatch", "gensidig_invitation", "gensidig_ratingcounter", "gensidig_comment")


def scrub(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in TABLES:
                cursor.execute(f'VACUUM FULL "{table}"')
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Migration(migrations.Migration):
    # VACUUM cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("gensidig", "0011_drop_what_sealed_ballots_replace"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
