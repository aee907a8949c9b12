from django.core.management.base import BaseCommand, CommandError, no_translations

from gensidig.services.access import add_admin
from gensidig.services.organisation.teams import TeamError, normalise_email


class Command(BaseCommand):
    help = "Make someone an administrator (HR) of an organisation, creating the organisation if it is new."

    def add_arguments(self, parser):
        parser.add_argument("email", help="The administrator's e-mail address.")
        parser.add_argument("--org", required=True, help="The organisation's short name.")
        parser.add_argument("--org-name", help="The organisation's full name, when it is created.")

    @no_translations
    def handle(self, *args, **options):
        try:
            email = normalise_email(options["email"])
        except TeamError as error:
            raise CommandError(str(error)) from error
        organisation, user = add_admin(
            email=email, organisation_slug=options["org"], organisation_name=options["org_name"]
        )
        self.stdout.write(self.style.SUCCESS(f"{user.email} administers {organisation.name} ({organisation.slug})."))
        self.stdout.write(
            "They sign in with a one-time link from the sign-in page, or set a password with:\n"
            f"  gensidig changepassword {user.email}"
        )
