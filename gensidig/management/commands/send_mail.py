import time

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import close_old_connections
from tqdm import tqdm

from gensidig.models import Campaign, Round
from gensidig.models.choices import RoundStatus
from gensidig.services.campaigns import launch_due_campaigns
from gensidig.services.mail import outbox as mailing
from gensidig.services.mail import reminders as reminder_mail
from gensidig.services.mail import shared_report
from gensidig.services.scheduled import DailyJobs
from gensidig.services.signin import send_sign_in_links

# Without a terminal (cron, systemd's journal) a line at most this often instead of a bar.
PLAIN_PROGRESS_SECONDS = 10
# Someone waiting for a sign-in link should not wait for the next full pass.
SIGN_IN_POLL_SECONDS = 1


class Command(BaseCommand):
    help = (
        "Start the reminders that are due, then send waiting invitations and reminders over SMTP. Each message "
        "goes out at most once: a run that was interrupted is reported, and the next run finishes the rest."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=int,
            metavar="SECONDS",
            help=(
                "Run again every SECONDS until stopped. Kept for existing scripts: `gensidig worker` runs this "
                "and every other scheduled job (due closes, retention, erasure of leavers)."
            ),
        )
        parser.add_argument(
            "--campaign",
            metavar="PUBLIC_ID",
            help="Send only this campaign's invitations (reminders are always sent for every round).",
        )
        parser.add_argument(
            "--resend-interrupted",
            action="store_true",
            help="First queue again invitations interrupted while being sent (they may or may not have arrived).",
        )
        parser.add_argument(
            "--resend-failed", action="store_true", help="First queue again invitations that could not be delivered."
        )

    @no_translations  # the console speaks English; e-mails follow each person's language
    def handle(self, *args, **options):
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(public_id=options["campaign"]).first()
            if campaign is None:
                raise CommandError(f"No campaign with the id '{options['campaign']}'.")
        if options["loop"] is not None and options["loop"] < 1:
            raise CommandError("--loop needs a number of seconds of at least 1.")
        self._requeue(campaign, options)
        daily = DailyJobs()
        while True:
            reached = self._run(campaign, quiet=options["loop"] is not None)
            if options["loop"] is None:
                if not reached:
                    raise CommandError("The mail server could not be reached; nothing more was sent.")
                return
            for done in daily.run_if_due():
                self.stdout.write(done)
            try:
                self._wait(options["loop"])
            except KeyboardInterrupt:
                return

    def _wait(self, seconds: int) -> None:
        """Sleep until the next pass, sending sign-in links within a second of being asked for."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(SIGN_IN_POLL_SECONDS, left))
            close_old_connections()  # a long-lived process must not keep a dead connection
            send_sign_in_links()

    def _requeue(self, campaign, options):
        if not (options["resend_interrupted"] or options["resend_failed"]):
            return
        rounds = campaign.rounds.all() if campaign else Round.objects.filter(status=RoundStatus.OPEN)
        if options["resend_interrupted"]:
            self.stdout.write(f"Queued again {mailing.resend_interrupted(rounds=rounds)} interrupted invitation(s).")
        if options["resend_failed"]:
            self.stdout.write(f"Queued again {mailing.resend_failed(rounds=rounds)} failed invitation(s).")

    def _run(self, campaign, *, quiet: bool) -> bool:
        """One pass; False if the mail server could not be reached. Quiet: say nothing when nothing happened."""
        signed_in = send_sign_in_links()
        if signed_in:
            self.stdout.write(f"Sign-in links: {signed_in} sent.")
        for opened in launch_due_campaigns():
            self.stdout.write(f"Opened the scheduled campaign '{opened.name}'.")
        started = reminder_mail.start_due_reminders()
        if started:
            self.stdout.write(f"Started {len(started)} reminder batch(es).")
        with self._progress("Invitations") as progress:
            invitations = mailing.send_invitations(campaign=campaign, progress=progress)
        self._summarise("Invitations", invitations, quiet)
        with self._progress("Reminders") as progress:
            reminders = reminder_mail.send_reminders(progress=progress)
        self._summarise("Reminders", reminders, quiet)
        notices = shared_report.send_report_notices()
        if notices.sent or notices.failed:
            self.stdout.write(f"Shared reports: {notices.sent} leader(s) told, {notices.failed} failed.")
        if notices.connection_error and not (invitations.server_unreachable or reminders.server_unreachable):
            self.stderr.write(notices.connection_error)
        return not (invitations.server_unreachable or reminders.server_unreachable or notices.connection_error)

    def _summarise(self, what, report, quiet):
        interrupted = len(report.interrupted) + report.reminders_interrupted
        # In a loop, interrupted invitations wait for an admin; saying so every pass would drown the log.
        if quiet and not (report.sent or report.failed or report.reminders_interrupted or report.connection_error):
            return
        line = f"{what}: {report.sent} sent, {report.failed} failed"
        if interrupted:
            line += f", {interrupted} interrupted"
        if report.remaining:
            line += f", {report.remaining} still waiting"
        self.stdout.write(
            line + ".",
            style_func=self.style.WARNING if report.failed or report.connection_error else self.style.SUCCESS,
        )
        for mail in report.failures:
            self.stdout.write(f"  failed: {mail.email} ({mail.team}): {mail.error}")
        for mail in report.interrupted:
            self.stdout.write(
                f"  interrupted, may or may not have been delivered: {mail.email} ({mail.team}); "
                "queue it again with --resend-interrupted"
            )
        if report.reminders_interrupted:
            self.stdout.write(
                f"  {report.reminders_interrupted} reminder(s) interrupted by an earlier run; "
                "they may or may not have been delivered and are not sent again."
            )
        if report.connection_error:
            self.stderr.write(report.connection_error)

    def _progress(self, what):
        if self.stderr.isatty():
            return _Bar(what, _Stream(self.stderr))
        return _Lines(what, self.stderr)


def _plain(text):
    return text  # progress is not an error, whatever colour Django gives stderr


class _Stream:
    """tqdm writes carriage returns; Django's wrapper would end every write with a newline."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text):
        self.wrapper.write(text, style_func=_plain, ending="")

    def flush(self):
        self.wrapper.flush()


class _Bar:
    def __init__(self, what, stream):
        self.what, self.stream, self.bar = what, stream, None

    def __enter__(self):
        return self

    def __call__(self, done, total):
        if not total:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.what, unit="mail", file=self.stream, leave=True)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


class _Lines:
    def __init__(self, what, stderr):
        self.what, self.stderr, self.last = what, stderr, None

    def __enter__(self):
        return self

    def __call__(self, done, total):
        if not total:
            return
        now = time.monotonic()
        if done == total or self.last is None or now - self.last >= PLAIN_PROGRESS_SECONDS:
            self.last = now
            self.stderr.write(f"{self.what}: {done} of {total}", style_func=_plain)

    def __exit__(self, *exc):
        return None
