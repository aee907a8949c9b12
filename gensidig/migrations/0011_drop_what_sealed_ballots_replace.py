"""Drop the columns sealed ballots replace: an invitation's one link, and reminder batches' lists.

Apart from 0010, so on PostgreSQL the rows 0010 rewrote are committed before their tables are
altered.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gensidig", "0010_sealed_ballots"),
    ]

    operations = [
        migrations.RemoveField(model_name="invitation", name="token_hash"),
        migrations.RemoveField(model_name="reminderbatch", name="done"),
        migrations.RemoveField(model_name="reminderbatch", name="waiting"),
    ]
