from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gensidig", "0023_chart_read_once"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScheduledJob",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("next_run", models.DateTimeField(db_index=True)),
            ],
        ),
    ]
