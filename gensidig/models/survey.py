"""The instrument (a frozen copy of the framework), rounds and the invitations to answer them."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import ItemKind, Role, RoundStatus
from .fields import PublicIdField
from .organisation import Person, Team


class Instrument(models.Model):
    """One version of the framework as it was when first used.

    The text of both languages is copied in, so a later edit of the data files never changes
    what an old round asked or how its report reads.
    """

    version = models.CharField(max_length=20)
    checksum = models.CharField(max_length=64, unique=True)
    content = models.JSONField()

    class Meta:
        verbose_name = _("instrument")

    def __str__(self):
        return f"{self.version} ({self.checksum[:8]})"


class Item(models.Model):
    """A question of the instrument: a need (about the chief) or an expectation (of the leaders)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="items")
    key = models.CharField(max_length=80)
    theme_key = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=ItemKind)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint("instrument", "key", name="item_key_unique_in_instrument")]

    def __str__(self):
        return self.key


class Round(models.Model):
    """One survey of one management team, from opening to close."""

    public_id = PublicIdField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rounds")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="rounds")
    number = models.PositiveSmallIntegerField(_("round number"))
    status = models.CharField(_("status"), max_length=10, choices=RoundStatus, default=RoundStatus.OPEN)
    anonymity_threshold = models.PositiveSmallIntegerField(
        _("anonymity threshold (k)"), validators=[MinValueValidator(3)]
    )
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    closes_at = models.DateTimeField(_("closes at"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    leaders_invited = models.PositiveSmallIntegerField(_("leaders invited"), default=0)
    campaign = models.ForeignKey(
        "gensidig.Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="rounds"
    )
    # The chief has shared the report (the leaders' figures, their own answers) and the
    # agreements with the team's leaders (DESIGN.md 2.10).
    shared_on = models.DateField(_("shared with the team on"), null=True, blank=True)

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["team", "-number"]
        constraints = [
            models.UniqueConstraint("team", "number", name="round_number_unique_in_team"),
            models.CheckConstraint(condition=models.Q(anonymity_threshold__gte=3), name="round_threshold_at_least_3"),
        ]

    def __str__(self):
        return f"{self.team} #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == RoundStatus.OPEN

    @property
    def is_closed(self) -> bool:
        return self.status == RoundStatus.CLOSED

    def accepts_answers(self, now=None) -> bool:
        return self.is_open and (now or timezone.now()) < self.closes_at

    def is_due_to_close(self, now=None) -> bool:
        return self.is_open and (now or timezone.now()) >= self.closes_at


class Invitation(models.Model):
    """The right of one person to answer one round once.

    It records whether it was used -- never when, and never anything that points at the answers
    given with it. Its links are AnswerTokens, kept apart so that sending a new link writes
    nothing on the invitation (DESIGN.md 2.1: a row rewritten at reminder time would keep, in its
    old version, whether its person had answered by then).
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role)
    used = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint("round", "person", name="invitation_unique_per_person_and_round"),
        ]

    def __str__(self):
        return f"{self.get_role_display()} in {self.round}"


class AnswerToken(models.Model):
    """One answer link of an invitation, kept only as the hash of its token.

    Every link sent (the invitation, each reminder, a new link) adds one; each works until the
    invitation is used or the round closes, when the round's tokens are deleted. New links are
    always made for every invitation of a round at once, answered or not, so the rows written
    tell nobody who had not answered yet.
    """

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)

    def __str__(self):
        return f"link of {self.invitation_id}"
