"""What changed since the team's previous round, and the course over every round that still has figures.

Only where both rounds could show a figure, and always as the difference of the figures as shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gensidig.models import ItemStatistic, Round, RoundSummary, ThemeStatistic
from gensidig.models.choices import Precision, Role, RoundStatus, Scale


@dataclass
class Trend:
    """Changes in the leaders' means since `previous`; a change exists only where both were shown."""

    previous: Round | None
    items: dict[tuple[str, str], float] = field(default_factory=dict)  # (item key, scale) -> change
    themes: dict[str, dict[str, float]] = field(default_factory=dict)  # theme -> {"importance": ..., ...}
    # Questions where either round shows its mean less exactly than to a tenth (services.results.history).
    approximate: set[tuple[str, str]] = field(default_factory=set)

    def item(self, key: str, scale: str) -> float | None:
        return self.items.get((key, scale))

    def theme(self, key: str, measure: str) -> float | None:
        return self.themes.get(key, {}).get(measure)

    def item_is_approximate(self, key: str, scale: str) -> bool:
        return (key, scale) in self.approximate

    def theme_is_approximate(self, key: str) -> bool:
        return any(item_key.split(".", 1)[0] == key for item_key, _scale in self.approximate)


def _rounds_with_figures(round_: Round, *, shared_only: bool):
    """The team's closed rounds that still have their figures; for the team's leaders, only those
    the chief shared (a report the chief kept to themself stays theirs, also as a trend)."""
    rounds = Round.objects.filter(team_id=round_.team_id, status=RoundStatus.CLOSED).filter(
        pk__in=RoundSummary.objects.values("round_id")
    )
    return rounds.filter(shared_on__isnull=False) if shared_only else rounds


def previous_round(round_: Round, *, shared_only: bool = False) -> Round | None:
    """The team's latest closed round before this one that still has its figures."""
    return (
        _rounds_with_figures(round_, shared_only=shared_only)
        .filter(number__lt=round_.number)
        .order_by("-number")
        .first()
    )


def trend_for(round_: Round, *, shared_only: bool = False) -> Trend:
    """Changes per leaders' question and per theme; three queries whatever the team's size.

    Items are matched by their key, so a later instrument version that keeps an item's key keeps
    its trend. A figure withheld in either round has no change: a change must never reveal what
    the threshold hid. The figures are stored as they are shown, so each change is the difference
    of the two figures a reader sees, and never more exact than the rounds allow. A theme's change
    is the difference of its two shown figures, and only where they cover the same items: two
    rounds are never compared over different sets of items.
    """
    previous = previous_round(round_, shared_only=shared_only)
    if previous is None:
        return Trend(previous=None)
    return _trend(*_round_figures([previous, round_]))


def _trend(then: RoundFigures, now: RoundFigures) -> Trend:
    """The changes from one round's shown figures to another's."""
    items = {question: now.items[question] - then.items[question] for question in now.items.keys() & then.items.keys()}
    themes: dict[str, dict[str, float]] = {}
    for theme_key in now.themes:
        changes = {}
        if now.scored_needs(theme_key) == then.scored_needs(theme_key):
            for measure in ("importance", "experience", "gap"):
                if now.theme(theme_key, measure) is not None and then.theme(theme_key, measure) is not None:
                    changes[measure] = now.theme(theme_key, measure) - then.theme(theme_key, measure)
        if now.shown_expectations(theme_key) == then.shown_expectations(theme_key):
            measure = "leaders_fulfilment"
            if now.theme(theme_key, measure) is not None and then.theme(theme_key, measure) is not None:
                changes[measure] = now.theme(theme_key, measure) - then.theme(theme_key, measure)
        if changes:
            themes[theme_key] = changes
    coarse = (now.approximate | then.approximate) & items.keys()
    return Trend(previous=then.round, items=items, themes=themes, approximate=coarse)


@dataclass
class RoundFigures:
    """What one round of the team shows, for the course over every round."""

    round: Round
    themes: dict[str, dict[str, float | None]] = field(default_factory=dict)  # theme -> measure -> figure
    items: dict[tuple[str, str], float] = field(default_factory=dict)  # (item key, scale) -> mean, where shown
    approximate: set[tuple[str, str]] = field(default_factory=set)

    def item(self, key: str, scale: str) -> float | None:
        return self.items.get((key, scale))

    def theme(self, key: str, measure: str) -> float | None:
        return self.themes.get(key, {}).get(measure)

    def shown_expectations(self, theme_key: str) -> frozenset[str]:
        """The theme's expectations whose leaders' figure was shown."""
        return frozenset(k for (k, s) in self.items if s == Scale.FULFILMENT and k.startswith(theme_key + "."))

    def scored_needs(self, theme_key: str) -> frozenset[str]:
        """The theme's needs whose importance and experience were both shown: what its figures cover."""
        importance = {k for (k, s) in self.items if s == Scale.IMPORTANCE and k.startswith(theme_key + ".")}
        return frozenset(k for k in importance if (k, Scale.EXPERIENCE) in self.items)


@dataclass
class Course:
    """Every round of the team that still has figures, oldest first, up to and including this one."""

    rounds: list[RoundFigures]

    @property
    def earlier(self) -> list[RoundFigures]:
        return self.rounds[:-1]

    def trend(self) -> Trend:
        """The change since the round before this one: the same as trend_for, from what is loaded."""
        return _trend(self.rounds[-2], self.rounds[-1]) if len(self.rounds) > 1 else Trend(previous=None)

    def theme_rows(self, theme_key: str) -> list[dict]:
        """Per round: the theme's figures, and the change since the round before where both showed
        them over the same needs (as the change column: the difference of the two shown figures)."""
        rows, before = [], None
        for figures in self.rounds:
            row = {
                "round": figures.round,
                "importance": figures.theme(theme_key, "importance"),
                "experience": figures.theme(theme_key, "experience"),
                "gap": figures.theme(theme_key, "gap"),
                "leaders_fulfilment": figures.theme(theme_key, "leaders_fulfilment"),
                "approximate": any(k.startswith(theme_key + ".") for k, _s in figures.approximate),
                "change": None,
            }
            if (
                before is not None
                and row["experience"] is not None
                and before.theme(theme_key, "experience") is not None
                and figures.scored_needs(theme_key) == before.scored_needs(theme_key)
            ):
                row["change"] = row["experience"] - before.theme(theme_key, "experience")
            rows.append(row)
            before = figures
        return rows

    def item_rows(self, key: str, scale: str) -> list[dict]:
        """Per round: the item's figure where shown, and the change where the round before showed it too."""
        rows, before = [], None
        for figures in self.rounds:
            mean = figures.item(key, scale)
            change = None
            if mean is not None and before is not None and before.item(key, scale) is not None:
                change = mean - before.item(key, scale)
            rows.append(
                {
                    "round": figures.round,
                    "mean": mean,
                    "change": change,
                    "approximate": (key, scale) in figures.approximate,
                }
            )
            before = figures
        return rows


def course_for(round_: Round, *, shared_only: bool = False) -> Course:
    """The team's rounds with figures, up to this one, with what each shows: three queries (one for a
    first round)."""
    earlier = list(
        _rounds_with_figures(round_, shared_only=shared_only).filter(number__lt=round_.number).order_by("number")
    )
    if not earlier:
        return Course(rounds=[RoundFigures(round=round_)])  # a first round: nothing to compare, nothing to read
    return Course(rounds=_round_figures([*earlier, round_]))


def _round_figures(rounds: list[Round]) -> list[RoundFigures]:
    """What each of these rounds shows, in their order: two queries."""
    by_id = {r.pk: RoundFigures(round=r) for r in rounds}
    for row in ThemeStatistic.objects.filter(round_id__in=by_id):
        by_id[row.round_id].themes[row.theme_key] = {
            "importance": row.importance,
            "experience": row.experience,
            "gap": row.gap,
            "leaders_fulfilment": row.leaders_fulfilment,
        }
    for round_id, key, scale, mean, precision in ItemStatistic.objects.filter(
        round_id__in=by_id, role=Role.LEADER, withheld=False
    ).values_list("round_id", "item__key", "scale", "mean", "precision"):
        by_id[round_id].items[(key, scale)] = mean
        if precision != Precision.TENTH:
            by_id[round_id].approximate.add((key, scale))
    return [by_id[r.pk] for r in rounds]
