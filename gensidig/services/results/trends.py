"""What changed since the team's previous round: only where both rounds could show the figure."""

from __future__ import annotations

from dataclasses import dataclass, field

from gensidig.models import ItemStatistic, Round, RoundSummary
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


def previous_round(round_: Round) -> Round | None:
    """The team's latest closed round before this one that still has its figures."""
    return (
        Round.objects.filter(team_id=round_.team_id, number__lt=round_.number, status=RoundStatus.CLOSED)
        .filter(pk__in=RoundSummary.objects.values("round_id"))
        .order_by("-number")
        .first()
    )


def trend_for(round_: Round) -> Trend:
    """Changes per leaders' question and per theme; two queries whatever the team's size.

    Items are matched by their key, so a later instrument version that keeps an item's key keeps
    its trend. A figure withheld in either round has no change: a change must never reveal what
    the threshold hid. The means are stored as they are shown, so each change is the difference
    of the two figures a reader sees, and never more exact than the rounds allow.
    """
    previous = previous_round(round_)
    if previous is None:
        return Trend(previous=None)
    means: dict[int, dict[tuple[str, str], float]] = {round_.pk: {}, previous.pk: {}}
    coarse: set[tuple[str, str]] = set()
    for round_id, key, scale, mean, precision in ItemStatistic.objects.filter(
        round_id__in=means, role=Role.LEADER, withheld=False
    ).values_list("round_id", "item__key", "scale", "mean", "precision"):
        means[round_id][(key, scale)] = mean
        if precision != Precision.TENTH:
            coarse.add((key, scale))
    now, then = means[round_.pk], means[previous.pk]
    items = {question: now[question] - then[question] for question in now.keys() & then.keys()}
    return Trend(previous=previous, items=items, themes=_theme_changes(items), approximate=coarse & items.keys())


def _theme_changes(items: dict[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    """A theme's change is the mean change of the items shown in both rounds, so two rounds are
    never compared over different sets of items."""
    collected: dict[str, dict[str, list[float]]] = {}
    gaps: dict[str, list[float]] = {}
    for (key, scale), change in items.items():
        theme = key.split(".", 1)[0]
        measure = "leaders_fulfilment" if scale == Scale.FULFILMENT else scale
        collected.setdefault(theme, {}).setdefault(measure, []).append(change)
        if scale == Scale.IMPORTANCE and (key, Scale.EXPERIENCE) in items:
            gaps.setdefault(theme, []).append(change - items[(key, Scale.EXPERIENCE)])
    themes = {
        theme: {measure: sum(values) / len(values) for measure, values in measures.items()}
        for theme, measures in collected.items()
    }
    for theme, values in gaps.items():
        themes[theme]["gap"] = sum(values) / len(values)
    return themes
