"""The report's metrics, computed from counters, with the anonymity rules built in.

Pure functions: no database, no Django. docs/metrics.md writes down every formula here, and
tests/services/test_statistics.py checks them, with hypothesis where a property says more
than an example.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gensidig.formatting import one_decimal
from gensidig.models.choices import DONT_KNOW, SCALE_VALUES

# Rule 3: no distribution below 5 answers, three groups from 5 to 7, the full scale from 8.
GROUPED_DISTRIBUTION_FROM = 5
FULL_DISTRIBUTION_FROM = 8
# A theme's figures need at least this many of its needs shown on both scales.
MIN_ITEMS_FOR_THEME = 2
# A difference this large is worth a sentence in the focus list.
GAP_WORTH_NAMING = 0.5
BLIND_SPOT_WORTH_NAMING = 0.5
MIRROR_GAP_WORTH_NAMING = 0.5
# A standard deviation of experience at or above this means leaders see the chief differently.
STRONG_DISAGREEMENT = 1.0
FOCUS_THEMES = 3
# The importance-performance grid (`quadrant`): half a point either side of the diagonal is a match,
# the same difference that is worth a sentence; from 3.5 a behaviour counts as important.
GRID_BAND = GAP_WORTH_NAMING
IMPORTANT_FROM = 3.5


@dataclass(frozen=True)
class Distribution:
    kind: str  # "full" (counts of 1..5) or "grouped" (low 1-2, middle 3, high 4-5)
    counts: tuple[int, ...]

    def as_json(self) -> dict:
        return {"kind": self.kind, "counts": list(self.counts)}


@dataclass(frozen=True)
class Figures:
    """What may be shown of the leaders' answers to one item on one scale."""

    withheld: bool
    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    dont_know: int | None = None
    distribution: Distribution | None = None

    @classmethod
    def hidden(cls) -> Figures:
        return cls(withheld=True)


def shown(value: float | None) -> float | None:
    """A figure as it is shown: rounded half up to one decimal (formatting.one_decimal, the one rule)."""
    return None if value is None else float(one_decimal(value))


def shown_difference(a: float | None, b: float | None) -> float | None:
    """a - b of two shown figures, itself as shown: the difference a reader checks with a pencil."""
    if a is None or b is None:
        return None
    return float(one_decimal(shown(a) - shown(b)))


def answered(counts: Mapping[int, int]) -> int:
    """How many gave a value on the scale; "don't know" does not count."""
    return sum(counts.get(value, 0) for value in SCALE_VALUES)


def distribution_of(counts: Mapping[int, int]) -> Distribution | None:
    n = answered(counts)
    if n >= FULL_DISTRIBUTION_FROM:
        return Distribution("full", tuple(counts.get(v, 0) for v in SCALE_VALUES))
    if n >= GROUPED_DISTRIBUTION_FROM:
        low = counts.get(1, 0) + counts.get(2, 0)
        high = counts.get(4, 0) + counts.get(5, 0)
        return Distribution("grouped", (low, counts.get(3, 0), high))
    return None


def summarise(counts: Mapping[int, int], *, threshold: int) -> Figures:
    """Mean, spread and distribution of one item's answers, or nothing if fewer than k answered.

    Never a minimum or a maximum (rule 3): with few answers they point at a person.
    """
    if threshold < 3:
        raise ValueError("the anonymity threshold is never below 3")
    n = answered(counts)
    if n < threshold:
        return Figures.hidden()
    mean = sum(value * counts.get(value, 0) for value in SCALE_VALUES) / n
    variance = sum(counts.get(value, 0) * (value - mean) ** 2 for value in SCALE_VALUES) / n
    return Figures(
        withheld=False,
        n=n,
        mean=mean,
        sd=math.sqrt(variance),
        dont_know=counts.get(DONT_KNOW, 0),
        distribution=distribution_of(counts),
    )


def single_answer(counts: Mapping[int, int]) -> int | None:
    """The chief's own answer from their counters (they answer once), or None for "don't know"."""
    for value in SCALE_VALUES:
        if counts.get(value, 0):
            return value
    return None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class NeedInput:
    importance: Figures
    experience: Figures
    chief_self: int | None


@dataclass(frozen=True)
class ExpectationInput:
    leaders_fulfilment: Figures
    chief_importance: int | None
    chief_fulfilment: int | None


@dataclass(frozen=True)
class ThemeFigures:
    items_scored: int = 0
    importance: float | None = None
    experience: float | None = None
    gap: float | None = None
    disagreement: float | None = None
    chief_self: float | None = None
    blind_spot: float | None = None
    chief_importance: float | None = None
    chief_fulfilment: float | None = None
    leaders_fulfilment: float | None = None
    mirror_gap: float | None = None
    focus_score: float | None = None
    reasons: tuple[str, ...] = field(default=())

    @property
    def leaders_shown(self) -> bool:
        return self.importance is not None


def theme_figures(needs: list[NeedInput], expectations: list[ExpectationInput]) -> ThemeFigures:
    """Combine a theme's items into theme figures, using only figures that are themselves shown.

    Built from shown item means only, so no theme figure can be combined with the items'
    figures to work out a withheld one. Every theme figure is itself rounded as it is shown, and
    every difference is the difference of the two shown figures, so the report adds up.
    """
    scored = [need for need in needs if not need.importance.withheld and not need.experience.withheld]
    chief_self = shown(_mean(need.chief_self for need in needs))
    chief_importance = shown(_mean(exp.chief_importance for exp in expectations))
    chief_fulfilment = shown(_mean(exp.chief_fulfilment for exp in expectations))
    leaders_fulfilment = shown(
        _mean(exp.leaders_fulfilment.mean for exp in expectations if not exp.leaders_fulfilment.withheld)
    )
    mirror_gap = shown_difference(leaders_fulfilment, chief_fulfilment)
    if len(scored) < MIN_ITEMS_FOR_THEME:
        return ThemeFigures(
            items_scored=len(scored),
            chief_self=chief_self,
            chief_importance=chief_importance,
            chief_fulfilment=chief_fulfilment,
            leaders_fulfilment=leaders_fulfilment,
            mirror_gap=mirror_gap,
        )
    importance = shown(_mean(need.importance.mean for need in scored))
    experience = shown(_mean(need.experience.mean for need in scored))
    disagreement = shown(_mean(need.experience.sd for need in scored))
    # The chief's self-view is compared on the same items the leaders' figure covers.
    chief_on_scored = shown(_mean(need.chief_self for need in scored))
    blind_spot = shown_difference(chief_on_scored, experience)
    gap = shown_difference(importance, experience)
    score, reasons = focus_score(
        importance=importance, gap=gap, blind_spot=blind_spot, disagreement=disagreement, mirror_gap=mirror_gap
    )
    return ThemeFigures(
        items_scored=len(scored),
        importance=importance,
        experience=experience,
        gap=gap,
        disagreement=disagreement,
        chief_self=chief_self,
        blind_spot=blind_spot,
        chief_importance=chief_importance,
        chief_fulfilment=chief_fulfilment,
        leaders_fulfilment=leaders_fulfilment,
        mirror_gap=mirror_gap,
        focus_score=score,
        reasons=reasons,
    )


def focus_score(
    *,
    importance: float,
    gap: float,
    blind_spot: float | None,
    disagreement: float | None,
    mirror_gap: float | None,
) -> tuple[float, tuple[str, ...]]:
    """How much a theme is worth talking about, and why, in order of weight.

    The importance-weighted gap leads (a shortfall on what matters most counts most); a chief
    who sees themself more favourably than the leaders do, leaders who disagree among
    themselves, and leaders who rate themselves higher on the chief's expectations than the
    chief does, each add half their excess.
    """
    parts = {
        "gap": max(0.0, gap) * importance / 5,
        "blind_spot": 0.5 * max(0.0, blind_spot or 0.0),
        "disagreement": 0.5 * max(0.0, (disagreement or 0.0) - STRONG_DISAGREEMENT),
        "mirror": 0.5 * max(0.0, mirror_gap or 0.0),
    }
    worth_naming = {
        "gap": gap >= GAP_WORTH_NAMING,
        "blind_spot": blind_spot is not None and blind_spot >= BLIND_SPOT_WORTH_NAMING,
        "disagreement": disagreement is not None and disagreement >= STRONG_DISAGREEMENT,
        "mirror": mirror_gap is not None and mirror_gap >= MIRROR_GAP_WORTH_NAMING,
    }
    reasons = tuple(sorted((r for r in parts if worth_naming[r]), key=lambda r: -parts[r]))
    return sum(parts.values()), reasons


def rank_focus(scores: Mapping[str, float | None]) -> dict[str, int]:
    """Rank themes by focus score, highest first; themes without a score get no rank.

    Ties keep the framework's order, so the ranking is stable.
    """
    ranked = [key for key in scores if scores[key] is not None]
    ranked.sort(key=lambda key: -scores[key])
    return {key: rank for rank, key in enumerate(ranked, start=1)}


def quadrant(*, importance: float, experience: float) -> str:
    """Where an item sits in the importance-performance grid, by the diagonal.

    The diagonal is where experience equals importance (Bacon 2003; Abalo, Varela & Manzano 2007):
    above it leaders experience less of a behaviour than they find it important, below it more. A
    band of GRID_BAND on either side counts as matching, and IMPORTANT_FROM separates what leaders
    find important from what matters less to them. So an item experienced below its importance is
    never called over-served, whatever the team's other items are. The difference is taken of the
    figures as shown (`shown_difference`), so the label agrees with the numbers beside it.

    * concentrate: missed by more than the band, and important;
    * keep_up: within the band, and important;
    * possible_overkill: experienced more than the band above its importance;
    * low_priority: less important, and not over-served.
    """
    gap = shown_difference(importance, experience)
    if gap < -GRID_BAND:
        return "possible_overkill"
    if importance < IMPORTANT_FROM:
        return "low_priority"
    return "concentrate" if gap > GRID_BAND else "keep_up"
