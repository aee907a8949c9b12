"""Daily housekeeping: the worker's daily job (gensidig.tasks), and `gensidig send-mail --loop`'s once a day."""

from __future__ import annotations

import datetime
import time

from django.contrib.sessions.models import Session
from django.utils import timezone

from gensidig.models import ChartUpload, SignInLink

DAY_SECONDS = 24 * 60 * 60
# An uploaded org chart holds every column of the file HR sent (names, addresses, whatever else the
# payroll export had); it is kept only for the preview and the apply that follows it.
CHART_UPLOAD_KEPT = datetime.timedelta(days=1)


def clear_expired_sessions() -> int:
    """Delete expired staff sessions (respondents never get one); returns how many went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def clear_expired_sign_in_links() -> int:
    """Delete expired sign-in links, and the counts of rate limits whose windows have passed."""
    from gensidig.services.rate_limits import clear_old_hits

    deleted, _ = SignInLink.objects.filter(expires_at__lt=timezone.now()).delete()
    clear_old_hits()
    return deleted


def clear_stale_chart_uploads() -> int:
    """Delete uploaded org charts older than a day, applied or not; returns how many went."""
    deleted, _ = ChartUpload.objects.filter(uploaded_at__lt=timezone.now() - CHART_UPLOAD_KEPT).delete()
    return deleted


class DailyJobs:
    """Runs the daily jobs on the first call and then once every 24 hours, in a long-running process."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._last: float | None = None

    def run_if_due(self) -> list[str]:
        now = self._clock()
        if self._last is not None and now - self._last < DAY_SECONDS:
            return []
        self._last = now
        return [
            f"Cleared {clear_expired_sessions()} expired session(s).",
            f"Cleared {clear_expired_sign_in_links()} expired sign-in link(s).",
            f"Cleared {clear_stale_chart_uploads()} uploaded org chart(s).",
        ]
