import logging
import signal
import socket

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils.crypto import get_random_string

from gensidig.services.jobs.worker import Worker


class Command(BaseCommand):
    help = (
        "Run the scheduled work: e-mail (sign-in links within moments, invitations, reminders), scheduled "
        "openings, due reminders and closes each minute, and the daily retention, erasure and clean-ups. Run one "
        "or more, on one or more machines: no job is ever run twice. Stops after the task at hand on SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Enqueue the periodic jobs that are due, run everything waiting, then exit (for cron and tests).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="How long to wait before looking again when nothing is waiting (default 1).",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Only run tasks; leave enqueueing the periodic jobs to the other workers.",
        )
        parser.add_argument(
            "--worker-id",
            help="A name for this worker, unique among the workers (default: the host name and a random part).",
        )

    @no_translations  # the log speaks English; e-mails follow each person's language
    def handle(self, *args, **options):
        if options["interval"] <= 0:
            raise CommandError("--interval needs a number of seconds above 0.")
        worker_id = options["worker_id"] or f"{socket.gethostname()[:40]}-{get_random_string(8)}"
        if not 0 < len(worker_id) <= 64:
            raise CommandError("--worker-id must be 1 to 64 characters.")
        self._log_to_console(options["verbosity"])
        worker = Worker(
            worker_id=worker_id,
            interval=options["interval"],
            once=options["once"],
            scheduler=not options["no_scheduler"],
        )
        stop_signals = [signal.SIGINT, signal.SIGTERM, *([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])]
        before = {number: signal.getsignal(number) for number in stop_signals}
        worker.configure_signals()  # SIGTERM or Ctrl+C: finish the task at hand, then stop
        try:
            worker.run()
        finally:
            for number, handler in before.items():  # the caller's own (a test run's Ctrl+C) again
                signal.signal(number, handler)

    def _log_to_console(self, verbosity: int) -> None:
        """What the worker and its tasks log goes to the console (systemd's journal), at INFO by default.

        Django Tasks' own line for every task started and finished is shown only at -v 2: with the
        minute's jobs it would be a dozen lines a minute that say nothing.
        """
        level = logging.WARNING if verbosity == 0 else logging.INFO
        for name in ("gensidig.services.jobs", "gensidig.tasks"):
            logging.getLogger(name).setLevel(level)
        logging.getLogger("django.tasks").setLevel(logging.INFO if verbosity >= 2 else logging.WARNING)
