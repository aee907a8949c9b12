import contextlib
import datetime
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from gensidig.services.demo import DemoLinks, Period, build_demo
from gensidig.services.mail import demo_outbox
from gensidig.serving import serve

# The demo's worker, as production runs it: sign-in links within moments of being asked for,
# invitations, reminders, scheduled openings and due closes, every e-mail into the demo's outbox
# (the environment it inherits switches the outbox on).
WORKER = [sys.executable, "-m", "gensidig", "worker"]


class Command(BaseCommand):
    help = (
        "Load (or reload) the demo organisation into the database, print where to look, and serve it, "
        "with a worker that puts every e-mail in the demo's outbox instead of sending it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-serve", action="store_true", help="Only load the data; do not start the server.")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        base = f"http://{options['host']}:{options['port']}"
        serving = not options["no_serve"]
        with contextlib.ExitStack() as stack:
            if serving:
                # E-mails go to the demo's outbox, with links to where the demo is served.
                stack.enter_context(demo_outbox.switched_on())
                stack.enter_context(_site_url(base))
                demo_outbox.empty_outbox()
            demo = build_demo(base_url=base)
            self._tell(demo, base, serving=serving)
            if not serving:
                return
            call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.flush()
            stack.enter_context(running(WORKER))
            serve(host=options["host"], port=options["port"], workers=2)

    def _tell(self, demo: DemoLinks, base: str, *, serving: bool) -> None:
        write = self.stdout.write
        story = demo.story
        first, last, now = story.first_round, story.last_campaign, story.campaign
        report = f"{base}/rounds/{demo.closed_report.public_id}"
        write("")
        write(self.style.SUCCESS(f"The Gensidig demo is ready at {base}/"))
        write("")
        write(f"  Demo Kommune, today {_day(story.today)}. What has happened so far:")
        write(
            f"    {_span(first)}: the first round of Mette Holm's management team (Sundhed og Ældre), "
            "and three agreements after it."
        )
        write(
            f'    {_span(last)}: HR\'s campaign "{demo.last_campaign.name}" for the whole municipality. '
            "Mette shared the report with her leaders, and they made two agreements."
        )
        write(
            f'    Today: HR opened the campaign "{demo.campaign.name}". It closes on {_day(now.closes_on)} at '
            f"{now.closes_at:%H:%M}; {demo.leaders_answered} of Mette's {demo.open_round.leaders_invited} leaders "
            "have answered so far."
        )
        write("")
        write(f"  Sign in at {base}/login/ with the password {demo.password} as:")
        write(f"    {demo.chief_email:32} Mette Holm, a chief with a team below her (reports, roll-up, the open round)")
        write(f"    {demo.admin_email:32} HR: the org chart, campaigns, participation and roll-ups")
        write(
            f"    {demo.small_team_chief_email:32} Ole Ærø, the chief of a team of three, whose leaders' figures "
            "are withheld,"
        )
        write(f"    {'':32} and a leader in Mette's team, who sees the report she shared")
        if serving:
            write(f"  Or without a password: ask for a sign-in link at {base}/login/link/ and open it in the")
            write("  demo's outbox, where every e-mail the demo sends is kept (no e-mail leaves this machine):")
            write(f"    {base}/demo/outbox/")
            write(f'  The outbox already holds today\'s invitations to "{demo.campaign.name}": open one to answer as')
            write("  that person.")
        write(f"  A leader's answer link for \"{demo.campaign.name}\" (a leader in Mette's team):")
        write(f"    {demo.leader_link}")
        write("  Mette's own answer link for it:")
        write(f"    {demo.chief_link}")
        write(
            f'  The report of Mette\'s team from "{demo.last_campaign.name}", with the change since the '
            f"{first.season} round (sign in as Mette first):"
        )
        write(f"    {report}/report/")
        write("  Its meeting guide (and meeting mode), and the agreements made after both rounds:")
        write(f"    {report}/guide/")
        write(f"    {report}/agreements/")
        write("  A small team where too few leaders answered, so their figures are withheld (sign in as Ole):")
        write(f"    {base}/rounds/{demo.small_team_report.public_id}/report/")
        write(f'  The roll-up of "{demo.last_campaign.name}" across the organisation (HR or Mette):')
        write(f"    {base}/campaigns/{demo.last_campaign.public_id}/rollup/")
        write(f'  How many have answered "{demo.campaign.name}" so far (HR; counts only, never who):')
        write(f"    {base}/org/{demo.campaign.organisation.slug}/campaigns/{demo.campaign.public_id}/")
        write("")
        write("  Open links in a private window to answer as someone else. Running the demo again makes new links.")
        if not serving:
            write("  Served (without --no-serve), the demo also keeps the e-mails it sends in an outbox page.")
        write("")


def _day(day: datetime.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _span(period: Period) -> str:
    return f"{period.season.capitalize()} ({_day(period.opens_on)} to {_day(period.closes_on)})"


@contextlib.contextmanager
def _site_url(base: str):
    """Links in the demo's e-mails point to where it is served, unless SITE_URL says otherwise."""
    if "SITE_URL" in os.environ:
        yield
        return
    before = settings.SITE_URL
    settings.SITE_URL = base
    os.environ["SITE_URL"] = base
    try:
        yield
    finally:
        settings.SITE_URL = before
        os.environ.pop("SITE_URL", None)


def _stop_with_parent() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """On Linux, the worker is stopped if the demo dies without stopping it (kill -9)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def running(command: list[str]):
    """A process that runs as long as the block (the demo's worker); Ctrl+C reaches the demo, which stops it."""
    process = subprocess.Popen(command, env=os.environ.copy(), start_new_session=True, preexec_fn=_stop_with_parent)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
