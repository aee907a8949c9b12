from django.core.management.base import BaseCommand, CommandError, no_translations

from gensidig.services.mail.direct import send_links
from gensidig.services.survey.rounds import RoundError, reissue_links

from ._helpers import ID_HELP, get_round, print_links


class Command(BaseCommand):
    help = (
        "Make new answer links for everyone in a round who has not answered yet, and print them or e-mail "
        "them (--email). Links sent earlier to those people stop working."
    )

    def add_arguments(self, parser):
        parser.add_argument("round", help=ID_HELP)
        parser.add_argument("--email", action="store_true", help="Send each person their link by e-mail.")

    @no_translations  # the console speaks English; e-mails and pages follow each person's language
    def handle(self, *args, **options):
        round_ = get_round(options["round"])
        try:
            links = reissue_links(round_=round_)
        except RoundError as error:
            raise CommandError(str(error)) from error
        if options["email"]:
            sent = send_links(round_=round_, links=links)
            self.stdout.write(self.style.SUCCESS(f"Sent {sent} e-mail(s)."))
        else:
            print_links(self.stdout, links)
