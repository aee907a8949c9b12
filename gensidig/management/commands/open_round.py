import datetime

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone

from gensidig.models import Team
from gensidig.services.survey.rounds import RoundError, open_round

from ._helpers import parse_closing_time, print_links


class Command(BaseCommand):
    help = (
        "Open the next round for a team and print one answer link per person. The links are shown "
        "only now: they are stored as hashes and cannot be printed again, only replaced (`gensidig links`)."
    )

    def add_arguments(self, parser):
        parser.add_argument("org", help="The organisation's short name.")
        parser.add_argument("team", help="The team's short name.")
        closing = parser.add_mutually_exclusive_group()
        closing.add_argument("--closes", help="Closing date (YYYY-MM-DD) or date and time (YYYY-MM-DDTHH:MM).")
        closing.add_argument("--days", type=int, default=14, help="Close after this many days (default 14).")
        parser.add_argument("--threshold", type=int, help="Anonymity threshold k (default: the organisation's).")

    @no_translations  # the console speaks English; e-mails and pages follow each person's language
    def handle(self, *args, **options):
        team = (
            Team.objects.select_related("organisation", "chief")
            .filter(organisation__slug=options["org"], slug=options["team"])
            .first()
        )
        if team is None:
            raise CommandError(f"No team '{options['team']}' in organisation '{options['org']}'.")
        closes_at = (
            parse_closing_time(options["closes"])
            if options["closes"]
            else timezone.now() + datetime.timedelta(days=options["days"])
        )
        try:
            round_, links = open_round(team=team, closes_at=closes_at, threshold=options["threshold"])
        except RoundError as error:
            raise CommandError(str(error)) from error
        self.stderr.write(
            self.style.SUCCESS(
                f"Opened round {round_.number} of '{team.name}' (id {round_.public_id}), k={round_.anonymity_threshold}, "
                f"closes {timezone.localtime(round_.closes_at):%Y-%m-%d %H:%M}. Answer links:"
            )
        )
        print_links(self.stdout, links)
