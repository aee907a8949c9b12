import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from gensidig.db.timeouts import unbounded_statements
from gensidig.services.ballots.keys import BallotKeyError, check_ready_to_serve
from gensidig.serving import serve


class Command(BaseCommand):
    help = "Serve Gensidig in production: gunicorn with static files from WhiteNoise, configured by environment."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, help="Worker processes (default: WEB_CONCURRENCY or 2 × CPUs + 1).")
        parser.add_argument("--migrate", action="store_true", help="Apply database migrations first.")
        parser.add_argument("--no-collectstatic", action="store_true", help="Skip collecting static files.")
        parser.add_argument(
            "--access-log", action="store_true", help="Write an access log to stdout (answer tokens are redacted)."
        )

    def handle(self, *args, **options):
        if options["migrate"]:
            with unbounded_statements():
                call_command("migrate", interactive=False, verbosity=0)
        try:
            check_ready_to_serve()
        except BallotKeyError as error:
            raise CommandError(str(error)) from error
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Serving Gensidig at http://{options['host']}:{options['port']}/ (Ctrl+C stops it)")
        self.stdout.flush()
        serve(host=options["host"], port=options["port"], workers=options["workers"], access_log=options["access_log"])
