from django.core.management.base import BaseCommand, CommandError, no_translations

from gensidig.services.survey.rounds import close_due_rounds, close_round

from ._helpers import get_round


class Command(BaseCommand):
    help = "Close a round now and compute its report, or (--due) every round whose closing time has passed."

    def add_arguments(self, parser):
        parser.add_argument("round", nargs="?", help="The round's id, as printed by open-round.")
        parser.add_argument("--due", action="store_true", help="Close all rounds past their closing time (for cron).")

    @no_translations  # the console speaks English; e-mails and pages follow each person's language
    def handle(self, *args, **options):
        if options["due"]:
            closed = close_due_rounds()
            self.stdout.write(f"Closed {len(closed)} round(s).")
            return
        if not options["round"]:
            raise CommandError("Name a round, or use --due.")
        round_ = close_round(round_=get_round(options["round"]))
        summary = round_.summary
        self.stdout.write(
            self.style.SUCCESS(
                f"Closed round {round_.number} of '{round_.team.name}': {summary.leader_responses} of "
                f"{round_.leaders_invited} leaders answered."
            )
        )
