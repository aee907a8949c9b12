"""Sealed ballots (DESIGN.md 2.1): answers are no longer counted as they come in.

Rounds open when this runs keep what they have gathered: their counters and comments are sealed
into one carried-over ballot of the round's new key, and counted with the rest at close. Answer
links move to their own table, and reminder batches keep counts only.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

VALUE_FIELDS = ("count_0", "count_1", "count_2", "count_3", "count_4", "count_5")


def links_to_their_own_table(apps, schema_editor):
    Invitation = apps.get_model("gensidig", "Invitation")
    AnswerToken = apps.get_model("gensidig", "AnswerToken")
    AnswerToken.objects.bulk_create(
        (
            AnswerToken(invitation_id=pk, token_hash=token_hash)
            for pk, token_hash in Invitation.objects.values_list("pk", "token_hash").iterator()
        ),
        batch_size=2000,
    )


def reminders_keep_counts_only(apps, schema_editor):
    ReminderBatch = apps.get_model("gensidig", "ReminderBatch")
    ReminderBatch.objects.filter(done=True).update(status="done")
    for batch in ReminderBatch.objects.filter(done=False):
        # A batch caught half-sent cannot tell who already had it: it is not sent again.
        started = batch.sent or batch.failed or any(pk < 0 for pk in batch.waiting)
        batch.status = "done" if started else "pending"
        batch.interrupted = bool(started)
        batch.save(update_fields=["status", "interrupted"])
    # Who was still waiting must not survive in the column about to be dropped (PostgreSQL only
    # hides a dropped column; 0011 then rewrites the table so no old row version keeps it either).
    ReminderBatch.objects.exclude(waiting=[]).update(waiting=[])


def seal_what_open_rounds_have(apps, schema_editor):
    Round = apps.get_model("gensidig", "Round")
    open_rounds = list(Round.objects.filter(status="open").order_by("pk"))
    if not open_rounds:
        return
    from gensidig.services.ballots import keys, sealing

    RatingCounter = apps.get_model("gensidig", "RatingCounter")
    Comment = apps.get_model("gensidig", "Comment")
    RoundKey = apps.get_model("gensidig", "RoundKey")
    Ballot = apps.get_model("gensidig", "Ballot")
    master = keys.master_key()
    for round_ in open_rounds:
        material = keys.new_key_material(master)
        RoundKey.objects.create(
            round_id=round_.pk,
            public_key=material.public_key,
            wrapped_private_key=material.wrapped_private_key,
            master_key_id=material.master_key_id,
        )
        counters = RatingCounter.objects.filter(round_id=round_.pk).select_related("item").order_by("slot")
        counts = [
            ((c.role, c.item.key, c.scale), [getattr(c, name) for name in VALUE_FIELDS])
            for c in counters
            if any(getattr(c, name) for name in VALUE_FIELDS)
        ]
        comments = list(Comment.objects.filter(round_id=round_.pk).values_list("theme_key", "text"))
        if counts or comments:
            plaintext = sealing.encode_carried_totals(counts=counts, comments=[list(c) for c in comments])
            Ballot.objects.create(id=uuid.uuid4(), round_id=round_.pk, sealed=sealing.seal(material.public_key, plaintext))
        RatingCounter.objects.filter(round_id=round_.pk).delete()
        Comment.objects.filter(round_id=round_.pk).delete()


def ciphertext_is_not_compressed(apps, schema_editor):
    # Sealed ballots are random bytes: PostgreSQL would try to compress every one and fail.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE "gensidig_ballot" ALTER COLUMN "sealed" SET STORAGE EXTERNAL')


class Migration(migrations.Migration):
    dependencies = [
        ("gensidig", "0009_dialogue"),
    ]

    operations = [
        migrations.CreateModel(
            name="SignInRequest",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("email", models.EmailField(max_length=254)),
                ("language", models.CharField(max_length=10)),
            ],
        ),
        migrations.CreateModel(
            name="AnswerToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                (
                    "invitation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="tokens", to="gensidig.invitation"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="Ballot",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("sealed", models.BinaryField()),
                (
                    "round",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="ballots", to="gensidig.round"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="RoundKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("public_key", models.BinaryField(max_length=32)),
                ("wrapped_private_key", models.BinaryField()),
                ("master_key_id", models.CharField(max_length=16)),
                (
                    "round",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="ballot_key", to="gensidig.round"
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="reminderbatch",
            name="interrupted",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="reminderbatch",
            name="status",
            field=models.CharField(
                choices=[("pending", "Waiting to be sent"), ("sending", "Being sent"), ("done", "Sent")],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.RunPython(links_to_their_own_table, migrations.RunPython.noop),
        migrations.RunPython(reminders_keep_counts_only, migrations.RunPython.noop),
        migrations.RunPython(seal_what_open_rounds_have, migrations.RunPython.noop),
        migrations.RunPython(ciphertext_is_not_compressed, migrations.RunPython.noop),
    ]
