from django.core.management.base import BaseCommand, CommandError, no_translations

from gensidig.services.survey.closing import TallyError, close_due_rounds, close_round

from ._helpers import ID_HELP, get_round


class Command(BaseCommand):
    help = "Close a round now and compute its report, or (--due) every round whose closing time has passed."

    def add_arguments(self, parser):
        parser.add_argument("round", nargs="?", help=ID_HELP)
        parser.add_argument("--due", action="store_true", help="Close all rounds past their closing time (for cron).")

    @no_translations  # the console speaks English; e-mails and pages follow each person's language
    def handle(self, *args, **options):
        if options["due"]:
            failures = []
            closed = close_due_rounds(on_error=lambda what, error: failures.append((what, error)))
            self.stdout.write(f"Closed {len(closed)} round(s).")
            for what, error in failures:
                self.stderr.write(f"Could not close {what}: {error}")
            if failures:
                raise CommandError(f"{len(failures)} could not be closed; their ballots are kept.")
            return
        if not options["round"]:
            raise CommandError("Name a round, or use --due.")
        try:
            round_ = close_round(round_=get_round(options["round"]))
        except TallyError as error:
            raise CommandError(str(error)) from error
        summary = round_.summary
        self.stdout.write(
            self.style.SUCCESS(
                f"Closed round {round_.number} of '{round_.team.name}': {summary.leader_responses} of "
                f"{round_.leaders_invited} leaders answered."
            )
        )
