# An open campaign's participation, as HR was last shown it, kept for a short while (models/live.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gensidig", "0030_close_checks_fewer_keys"),
    ]

    operations = [
        migrations.CreateModel(
            name="LiveParticipation",
            fields=[
                (
                    "campaign",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="gensidig.campaign",
                    ),
                ),
                ("counted_at", models.DateTimeField()),
                ("inputs", models.CharField(max_length=64)),
                ("content", models.JSONField()),
            ],
        ),
    ]
