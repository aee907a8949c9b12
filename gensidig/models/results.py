"""Figures computed once when a round closes.

Reports, exports and roll-ups read these rows instead of the counters, so their cost does not
grow with the team, and a figure that the anonymity rules withhold is never stored here at
all: a withheld row keeps only the fact that it is withheld.

The close writes a row per question for every team -- 66,000 item figures, as many counters and
41,000 roll-up figures at 5,000 people -- in one transaction, and PostgreSQL checks every foreign
key of every new row, one row at a time (5-8 microseconds each: a second or more of the close's
five). So the three tables with a row per question (ItemStatistic, RollupStatistic and
RatingCounter in models/responses.py) have their links kept by Django instead
(db_constraint=False): the rows are written by the close alone, for the rounds and teams it has
just read inside its transaction, and anything that deletes a round, a team, a campaign or an
instrument's item goes through Django, which deletes these rows first or refuses (PROTECT), as
declared here. tests/services/test_close_keys.py deletes each owner the way the app does and
looks for rows left behind. The smaller tables, a row per round or per theme, keep their checked
links. For the same reason no link has an index that a unique constraint's leading column
already gives.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Precision, Role, Scale, Withheld
from .survey import Item, Round


class RoundSummary(models.Model):
    round = models.OneToOneField(Round, on_delete=models.CASCADE, related_name="summary")
    leader_responses = models.PositiveSmallIntegerField()
    chief_answered = models.BooleanField()
    leader_figures_shown = models.BooleanField()
    # Questions with enough answers that a campaign's pattern still hides, so that no roll-up
    # can be subtracted to reveal a smaller team (DESIGN.md 2.6).
    hidden_to_protect_others = models.PositiveSmallIntegerField(default=0)
    # An earlier round of nearly the same leaders (fewer than k came or went) is still shown: how
    # many changed, and how many questions are therefore shown less exactly, or not at all.
    changed_leaders = models.PositiveSmallIntegerField(null=True)
    coarsened = models.PositiveSmallIntegerField(default=0)
    hidden_for_history = models.PositiveSmallIntegerField(default=0)
    # Questions whose spread or groups are left out, because with them the lowest and the highest
    # answer could be worked out (DESIGN.md 2.3).
    spreads_left_out = models.PositiveSmallIntegerField(default=0)
    # Whether the number of leaders who answered may be shown to anyone but the chief (the team,
    # once the report is shared): a campaign's pattern for participation may hide it.
    responses_shown = models.BooleanField(default=True)
    comments_shown = models.BooleanField()


class ItemStatistic(models.Model):
    # Found through the unique constraint below, which starts with the round: no index of its own.
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="item_statistics", db_index=False, db_constraint=False
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False)
    role = models.CharField(max_length=10, choices=Role)
    scale = models.CharField(max_length=12, choices=Scale)
    withheld = models.BooleanField()
    withheld_because = models.CharField(max_length=10, choices=Withheld, blank=True, default="")
    n = models.PositiveSmallIntegerField(null=True)
    # Stored as shown: rounded half up to a tenth (or to `precision`), so nothing that draws from
    # it (a chart's coordinates, a difference) can be more exact than the published figure.
    mean = models.FloatField(null=True)
    precision = models.CharField(max_length=5, choices=Precision, default=Precision.TENTH)
    # To a tenth; null where it is left out (DESIGN.md 2.3).
    sd = models.FloatField(null=True)
    dont_know = models.PositiveSmallIntegerField(null=True)
    # {"kind": "full", "counts": [c1..c5]} from 8 answers, {"kind": "grouped", "counts":
    # [low 1-2, middle 3, high 4-5]} from 5 to 7, null below 5 or where it is left out (rule 3).
    distribution = models.JSONField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("round", "item", "role", "scale", name="item_statistic_unique"),
            models.CheckConstraint(
                condition=models.Q(withheld=False)
                | models.Q(
                    mean__isnull=True,
                    n__isnull=True,
                    sd__isnull=True,
                    distribution__isnull=True,
                    dont_know__isnull=True,
                ),
                name="withheld_statistic_has_no_figures",
            ),
        ]


class ThemeStatistic(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="theme_statistics")
    theme_key = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    # Leaders' side: means over the theme's needs whose importance and experience are both shown.
    items_scored = models.PositiveSmallIntegerField(default=0)
    importance = models.FloatField(null=True)
    experience = models.FloatField(null=True)
    gap = models.FloatField(null=True)
    disagreement = models.FloatField(null=True)
    # Chief's side.
    chief_self = models.FloatField(null=True)
    blind_spot = models.FloatField(null=True)
    # The mirror on the chief's expectations of the leaders.
    chief_importance = models.FloatField(null=True)
    chief_fulfilment = models.FloatField(null=True)
    leaders_fulfilment = models.FloatField(null=True)
    mirror_gap = models.FloatField(null=True)
    # Focus ranking: 1 is the theme most worth talking about; null when leaders' figures are withheld.
    focus_score = models.FloatField(null=True)
    focus_rank = models.PositiveSmallIntegerField(null=True)
    reasons = models.JSONField(default=list)
    # Built from at least one mean shown less exactly than to a tenth.
    approximate = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint("round", "theme_key", name="theme_statistic_unique")]


class RollupStatistic(models.Model):
    """A branch's figure for one leaders' question: the sum over a team and every team below it.

    Computed when a campaign closes, with one suppression pattern for the whole hierarchy
    (DESIGN.md 2.6): a withheld row keeps no number. The mean is stored as it may be published
    (to a tenth, or coarser); a branch's spread is never published, so it is not stored.
    """

    # Found through the unique constraint below, which starts with the campaign.
    campaign = models.ForeignKey(
        "gensidig.Campaign",
        on_delete=models.CASCADE,
        related_name="rollup_statistics",
        db_constraint=False,
        db_index=False,
    )
    team = models.ForeignKey("gensidig.Team", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False)
    scale = models.CharField(max_length=12, choices=Scale)
    withheld = models.BooleanField()
    n = models.PositiveIntegerField(null=True)
    mean = models.FloatField(null=True)
    precision = models.CharField(max_length=5, choices=Precision, default=Precision.TENTH)

    class Meta:
        constraints = [
            models.UniqueConstraint("campaign", "team", "item", "scale", name="rollup_statistic_unique"),
            models.CheckConstraint(
                condition=models.Q(withheld=False) | models.Q(mean__isnull=True, n__isnull=True),
                name="withheld_rollup_has_no_figures",
            ),
        ]


class RollupTheme(models.Model):
    """A branch's or a team's theme figures for the heatmap, from shown item figures only."""

    class Scope(models.TextChoices):
        BRANCH = "branch", _("The team and every team below it")
        OWN = "own", _("The team itself")

    campaign = models.ForeignKey("gensidig.Campaign", on_delete=models.CASCADE, related_name="rollup_themes")
    team = models.ForeignKey("gensidig.Team", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope)
    theme_key = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    items_scored = models.PositiveSmallIntegerField(default=0)
    importance = models.FloatField(null=True)
    experience = models.FloatField(null=True)
    gap = models.FloatField(null=True)
    approximate = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint("campaign", "team", "scope", "theme_key", name="rollup_theme_unique")]


class RollupParticipation(models.Model):
    """How many leaders were invited and answered, for a team and for its branch; a count the
    suppression pattern withholds is empty."""

    campaign = models.ForeignKey("gensidig.Campaign", on_delete=models.CASCADE, related_name="participation")
    team = models.ForeignKey("gensidig.Team", on_delete=models.CASCADE, related_name="+")
    # Where the team hung in the campaign's hierarchy when it closed (the org chart may change
    # later); later campaigns compare their branches with these (services.results.history).
    parent = models.ForeignKey("gensidig.Team", on_delete=models.SET_NULL, null=True, related_name="+")
    invited = models.PositiveIntegerField()
    answered = models.PositiveIntegerField(null=True)
    branch_invited = models.PositiveIntegerField()
    branch_answered = models.PositiveIntegerField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint("campaign", "team", name="rollup_participation_unique")]


class ParticipationFloor(models.Model):
    """The highest count of a team's (or a branch's) answers that HR has been shown while its
    campaign was open.

    Counts only grow, so a count shown once is a floor for good: the audit of every later view,
    and of the close, includes it as something HR knows (DESIGN.md 2.6). It holds no more than HR
    saw on the campaign page.
    """

    class Scope(models.TextChoices):
        OWN = "own", _("The team itself")
        BRANCH = "branch", _("The team and every team below it")

    campaign = models.ForeignKey("gensidig.Campaign", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("gensidig.Team", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope)
    floor = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint("campaign", "team", "scope", name="participation_floor_unique")]
