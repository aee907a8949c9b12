"""What HR was last shown of an open campaign's participation, kept for a short while.

Counting an open campaign's participation reads every invitation and audits the whole
hierarchy, so the campaign page would cost more the larger the organisation. Instead the audited
counts are kept here, and every app server shows the same copy until it is older than
GENSIDIG_LIVE_PARTICIPATION_SECONDS (services/results/participation.py).

The row is written when the page counts again, never by a submission. It holds exactly what the
page showed (counts the audited pattern withholds are left out) and when it was counted, which the
page says too: nothing that ParticipationFloor does not already keep, and nothing about who.
"""

from django.db import models

from .campaigns import Campaign


class LiveParticipation(models.Model):
    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="+")
    counted_at = models.DateTimeField()
    # A digest of the few things that must show at once when they change (the campaign's state,
    # its threshold, its reminders, the admins who lead teams): a different digest counts again.
    inputs = models.CharField(max_length=64)
    # {"rows": [[team, depth, invited, answered, branch invited, branch answered, parent], ...] in
    # the page's order, "invited": total, "answered": total or null}.
    content = models.JSONField()

    def __str__(self):
        return f"participation of campaign {self.campaign_id} at {self.counted_at:%H:%M}"
