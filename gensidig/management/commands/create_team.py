from django.core.management.base import BaseCommand, CommandError, no_translations

from gensidig.services.organisation.teams import TeamError, create_team, get_or_create_organisation


class Command(BaseCommand):
    help = "Create a management team: a chief and the leaders who report to them."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="The organisation's short name (created if new).")
        parser.add_argument("--org-name", help="The organisation's full name, when it is created.")
        parser.add_argument("--name", required=True, help="The team's name, e.g. 'Ældre og sundhed'.")
        parser.add_argument("--chief", required=True, help="The chief's e-mail address.")
        parser.add_argument("--chief-name", default="", help="The chief's name.")
        parser.add_argument(
            "--leaders",
            nargs="+",
            required=True,
            metavar="EMAIL",
            help="The leaders' e-mail addresses (separated by spaces or commas).",
        )

    @no_translations  # the console speaks English; e-mails and pages follow each person's language
    def handle(self, *args, **options):
        leaders = [part for value in options["leaders"] for part in value.split(",") if part.strip()]
        organisation = get_or_create_organisation(slug=options["org"], name=options["org_name"])
        try:
            team = create_team(
                organisation=organisation,
                name=options["name"],
                chief_email=options["chief"],
                chief_name=options["chief_name"],
                leader_emails=leaders,
            )
        except TeamError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Created team '{team.name}' ({organisation.slug}/{team.slug}) with {len(leaders)} leaders."
            )
        )
        self.stdout.write(
            f"The chief signs in as {team.chief.email}; set a password with:\n"
            f"  gensidig changepassword {team.chief.email}"
        )
