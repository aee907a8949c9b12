from django.core.management.base import BaseCommand, no_translations
from django.db.models import Count, Q
from django.utils import timezone

from gensidig.models import Round
from gensidig.models.choices import Role


class Command(BaseCommand):
    help = "List rounds with their ids, status and how many have answered (counts only, never who)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organisation's rounds (its short name).")

    @no_translations
    def handle(self, *args, **options):
        rounds = Round.objects.select_related("team__organisation").order_by(
            "team__organisation__slug", "team__slug", "number"
        )
        if options["org"]:
            rounds = rounds.filter(team__organisation__slug=options["org"])
        rounds = rounds.annotate(
            answered=Count("invitations", filter=Q(invitations__role=Role.LEADER, invitations__used=True))
        )
        for round_ in rounds:
            closes = timezone.localtime(round_.closes_at).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(
                f"{round_.public_id}\t{round_.team.organisation.slug}/{round_.team.slug}\t#{round_.number}\t"
                f"{round_.status}\tcloses {closes}\t{round_.answered} of {round_.leaders_invited} leaders answered"
            )
