import django.db.models.deletion
from django.db import migrations, models


def fill_round(apps, schema_editor):
    """Each e-mail's round is its invitation's, copied in one statement."""
    InvitationMail = apps.get_model("gensidig", "InvitationMail")
    Invitation = apps.get_model("gensidig", "Invitation")
    InvitationMail.objects.update(
        round_id=models.Subquery(Invitation.objects.filter(pk=models.OuterRef("invitation_id")).values("round_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("gensidig", "0026_list_orders")]

    operations = [
        migrations.AddField(
            model_name="invitationmail",
            name="round",
            field=models.ForeignKey(
                null=True,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="gensidig.round",
            ),
        ),
        migrations.RunPython(fill_round, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="invitationmail",
            name="round",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="gensidig.round",
            ),
        ),
        migrations.AddIndex(
            model_name="invitationmail",
            index=models.Index(fields=["round", "status"], name="invitation_mail_round_status"),
        ),
    ]
