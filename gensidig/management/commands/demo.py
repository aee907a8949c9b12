import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from gensidig.services.demo import build_demo
from gensidig.serving import serve


class Command(BaseCommand):
    help = "Load (or reload) the demo organisation into the database, print where to look, and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-serve", action="store_true", help="Only load the data; do not start the server.")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        base = f"http://{options['host']}:{options['port']}"
        demo = build_demo(base_url=base)
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS(f"The Gensidig demo is ready at {base}/"))
        write("")
        write(f"  Sign in at {base}/login/ with the password {demo.password} as:")
        write(f"    {demo.chief_email:32} a chief with a team below her (reports, roll-up, an open round)")
        write(f"    {demo.admin_email:32} HR: the org chart, campaigns, participation and roll-ups")
        write(
            f"    {demo.small_team_chief_email:32} the chief of a team of three, whose leaders' figures are withheld,"
        )
        write(f"    {'':32} and a leader in the first chief's team, who sees the report she shared")
        write("  A leader's answer link for the open round:")
        write(f"    {demo.leader_link}")
        write("  The chief's own answer link for the open round:")
        write(f"    {demo.chief_link}")
        write("  The report of a closed round, with the change since last autumn's round (sign in as the chief first):")
        write(f"    {base}/rounds/{demo.closed_report.public_id}/report/")
        write("  Its meeting guide (and meeting mode), and the agreements made after both rounds:")
        write(f"    {base}/rounds/{demo.closed_report.public_id}/guide/")
        write(f"    {base}/rounds/{demo.closed_report.public_id}/agreements/")
        write("  A small team where too few leaders answered, so their figures are withheld (sign in as its chief):")
        write(f"    {base}/rounds/{demo.small_team_report.public_id}/report/")
        write("  The roll-up of the closed campaign across the organisation (HR or the chief):")
        write(f"    {base}/campaigns/{demo.campaign.public_id}/rollup/")
        write("")
        write("  Open links in a private window to answer as someone else. Running the demo again makes new links.")
        write("")
        if options["no_serve"]:
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.flush()
        serve(host=options["host"], port=options["port"], workers=2)
