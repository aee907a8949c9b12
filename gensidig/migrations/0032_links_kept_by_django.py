# Links kept by Django, not checked by the database: the close's rows per question and a sealed ballot's round.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gensidig", "0031_live_participation"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ballot",
            name="round",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="ballots",
                to="gensidig.round",
            ),
        ),
        migrations.AlterField(
            model_name="itemstatistic",
            name="round",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="item_statistics",
                to="gensidig.round",
            ),
        ),
        migrations.AlterField(
            model_name="ratingcounter",
            name="round",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="counters",
                to="gensidig.round",
            ),
        ),
        migrations.AlterField(
            model_name="rollupstatistic",
            name="team",
            field=models.ForeignKey(
                db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="gensidig.team"
            ),
        ),
    ]
