"""The conversation after a round: the meeting guide's choices, and the agreements made."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .fields import PublicIdField
from .organisation import Person
from .survey import Round


class GuideFormat(models.TextChoices):
    TWO_HOURS = "two_hours", _("A two-hour meeting")
    HALF_DAY = "half_day", _("A half-day seminar")


class MeetingGuide(models.Model):
    """The chief's choices for the meeting guide of a closed round."""

    round = models.OneToOneField(Round, on_delete=models.CASCADE, related_name="guide")
    format = models.CharField(_("format"), max_length=12, choices=GuideFormat, default=GuideFormat.TWO_HOURS)
    # The themes to talk about, in order; empty means the report's focus themes.
    focus_theme_keys = models.JSONField(default=list)


class AgreementOwner(models.TextChoices):
    # Translators: who is responsible for an agreement.
    CHIEF = "chief", pgettext_lazy("agreement owner", "The chief")
    # Translators: who is responsible for an agreement: one leader, named.
    LEADER = "leader", pgettext_lazy("agreement owner", "A leader")
    # Translators: who is responsible for an agreement: the whole management team.
    TEAM = "team", pgettext_lazy("agreement owner", "The whole team")


class AgreementStatus(models.TextChoices):
    # Translators: the state of an agreement.
    AGREED = "agreed", pgettext_lazy("agreement status", "Agreed")
    IN_PROGRESS = "in_progress", pgettext_lazy("agreement status", "Under way")
    DONE = "done", pgettext_lazy("agreement status", "Done")
    DROPPED = "dropped", pgettext_lazy("agreement status", "Dropped")


class Agreement(models.Model):
    """What the management team agreed to do about a theme: who, what, by when."""

    public_id = PublicIdField()
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="agreements")
    theme_key = models.CharField(_("theme"), max_length=40)
    item_keys = models.JSONField(_("items"), default=list, blank=True)
    text = models.TextField(_("what we agree"))
    owner = models.CharField(_("who"), max_length=10, choices=AgreementOwner, default=AgreementOwner.TEAM)
    # The leader who agreed to it, when one leader owns it (they are named with their consent).
    owner_person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("leader")
    )
    due_on = models.DateField(_("by when"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=AgreementStatus, default=AgreementStatus.AGREED)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")

    def __str__(self):
        return self.text[:60]
