# The close's bulk rows: fewer foreign keys checked at commit, no index a unique constraint already gives (models/results.py).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gensidig", "0028_campaign_mail_counts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="itemstatistic",
            name="item",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="gensidig.item",
            ),
        ),
        migrations.AlterField(
            model_name="itemstatistic",
            name="round",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="item_statistics",
                to="gensidig.round",
            ),
        ),
        migrations.AlterField(
            model_name="ratingcounter",
            name="item",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="gensidig.item",
            ),
        ),
        migrations.AlterField(
            model_name="ratingcounter",
            name="round",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="counters",
                to="gensidig.round",
            ),
        ),
        migrations.AlterField(
            model_name="rollupstatistic",
            name="campaign",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rollup_statistics",
                to="gensidig.campaign",
            ),
        ),
        migrations.AlterField(
            model_name="rollupstatistic",
            name="item",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="gensidig.item",
            ),
        ),
    ]
