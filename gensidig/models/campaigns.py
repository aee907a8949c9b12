"""Campaigns: one round for every management team in an organisation or a branch of it."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .fields import PublicIdField
from .organisation import Organisation, Team
from .survey import Instrument


class CampaignStatus(models.TextChoices):
    # Translators: a campaign being prepared, not yet sent out.
    DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
    # Translators: a campaign that opens by itself on its opening day.
    SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
    # Translators: a campaign whose rounds accept answers.
    OPEN = "open", pgettext_lazy("campaign status", "Open")
    # Translators: a campaign whose rounds are all closed.
    CLOSED = "closed", pgettext_lazy("campaign status", "Closed")


class Campaign(models.Model):
    public_id = PublicIdField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(_("name"), max_length=200)
    # The top of the branch the campaign covers; empty for the whole organisation.
    root_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("branch")
    )
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus, default=CampaignStatus.DRAFT)
    anonymity_threshold = models.PositiveSmallIntegerField(
        _("anonymity threshold (k)"), validators=[MinValueValidator(3)]
    )
    opens_on = models.DateField(_("opens on"))
    closes_at = models.DateTimeField(_("closes at"))
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Teams with fewer leaders than k that the admin chose to leave out.
    excluded_teams = models.ManyToManyField(Team, blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=models.Q(anonymity_threshold__gte=3), name="campaign_threshold_at_least_3")
        ]

    def __str__(self):
        return self.name
