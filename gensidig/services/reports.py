"""Assemble a closed round's report from its stored figures and the instrument's text.

Only rows computed at close are read here, never the counters: a figure the anonymity rules
withhold does not exist in those rows, so no page built from this can show it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from gensidig import framework as fw
from gensidig.db.prepared import Prepared
from gensidig.formatting import score_text
from gensidig.models import Comment, ItemStatistic, Round, RoundSummary, ThemeStatistic
from gensidig.models.choices import Precision, Role, Scale, Withheld
from gensidig.services.results import statistics as st
from gensidig.services.results.figures import comments_threshold
from gensidig.services.survey.instruments import framework_for


class ReportGone(Exception):
    """The round's answers were deleted when the organisation's retention period ended."""


@dataclass
class Figure:
    """One leaders' figure as a report shows it: a mean with its spread, or withheld, and why.

    The spread and the distribution are None where they are not shown: below 5 answers (the
    distribution), or left out because with them the lowest and highest answers could be worked
    out (DESIGN.md 2.3). A mean shown less exactly than to a tenth is `approximate`.
    """

    withheld: bool
    mean: float | None = None
    n: int | None = None
    sd: float | None = None
    dont_know: int | None = None
    distribution: dict | None = None
    precision: str = Precision.TENTH
    withheld_because: str = ""

    @classmethod
    def of(cls, row: ItemStatistic | None) -> Figure:
        if row is None:
            return cls(withheld=True)
        if row.withheld:
            return cls(withheld=True, withheld_because=row.withheld_because)
        return cls(False, row.mean, row.n, row.sd, row.dont_know, row.distribution, row.precision)

    @property
    def approximate(self) -> bool:
        return not self.withheld and self.precision != Precision.TENTH

    @property
    def spread_left_out(self) -> bool:
        """Shown, but without its spread (rule 3, or an earlier round of nearly the same leaders)."""
        return not self.withheld and self.sd is None

    @property
    def distribution_left_out(self) -> bool:
        """Enough answers for a distribution, but it is not shown (rule 3, or an earlier round)."""
        return not self.withheld and self.distribution is None and (self.n or 0) >= st.GROUPED_DISTRIBUTION_FROM


@dataclass
class NeedRow:
    number: int  # numbering across the report, for the grid's labels
    key: str
    title: str
    leader_text: str
    chief_text: str
    importance: Figure
    experience: Figure
    chief_self: float | None

    @property
    def gap(self) -> float | None:
        if self.importance.withheld or self.experience.withheld:
            return None
        return st.shown_difference(self.importance.mean, self.experience.mean)

    @property
    def blind_spot(self) -> float | None:
        if self.experience.withheld or self.chief_self is None:
            return None
        return st.shown_difference(self.chief_self, self.experience.mean)

    @property
    def strong_disagreement(self) -> bool:
        return self.experience.sd is not None and self.experience.sd >= st.STRONG_DISAGREEMENT


@dataclass
class ExpectationRow:
    key: str
    title: str
    chief_text: str
    leader_text: str
    chief_importance: float | None
    chief_fulfilment: float | None
    leaders_fulfilment: Figure

    @property
    def mirror_gap(self) -> float | None:
        if self.leaders_fulfilment.withheld or self.chief_fulfilment is None:
            return None
        return st.shown_difference(self.leaders_fulfilment.mean, self.chief_fulfilment)


@dataclass
class ThemeReport:
    theme: fw.Theme
    stat: ThemeStatistic
    needs: list[NeedRow] = field(default_factory=list)
    expectations: list[ExpectationRow] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.theme.key

    @property
    def title(self) -> str:
        return self.theme.title

    @property
    def strong_disagreement(self) -> bool:
        return self.stat.disagreement is not None and self.stat.disagreement >= st.STRONG_DISAGREEMENT

    @property
    def withheld_because(self) -> str:
        """Why the theme's leaders' figures are not shown: the reason of its needs' figures, where
        any was hidden for another reason than too few answers (theme figures need two needs)."""
        reasons = {f.withheld_because for need in self.needs for f in (need.importance, need.experience) if f.withheld}
        for reason in (Withheld.HISTORY, Withheld.PATTERN):
            if reason in reasons:
                return reason
        return Withheld.TOO_FEW

    @property
    def sentences(self) -> list[str]:
        return focus_sentences(self)

    @property
    def team_sentences(self) -> list[str]:
        return focus_sentences(self, to_chief=False)


@dataclass
class GridPoint:
    number: int
    title: str
    importance: float
    experience: float
    quadrant: str


@dataclass
class Report:
    round: Round
    summary: RoundSummary
    framework: fw.Framework
    themes: list[ThemeReport]

    @property
    def k(self) -> int:
        return self.round.anonymity_threshold

    @property
    def comments_k(self) -> int:
        return comments_threshold(self.k)

    @property
    def any_theme_scored(self) -> bool:
        return any(t.stat.focus_score is not None for t in self.themes)

    @property
    def focus(self) -> list[ThemeReport]:
        """The themes most worth talking about, best first; only those with a reason to name."""
        ranked = sorted(
            (t for t in self.themes if t.stat.focus_rank and t.stat.reasons), key=lambda t: t.stat.focus_rank
        )
        return ranked[: st.FOCUS_THEMES]

    @property
    def by_focus(self) -> list[ThemeReport]:
        """All themes, ranked ones first in rank order, then the rest in the framework's order."""
        return sorted(self.themes, key=lambda t: (t.stat.focus_rank or 99, t.theme.position))

    def theme(self, key: str) -> ThemeReport | None:
        return next((t for t in self.themes if t.key == key), None)

    def grid_points(self) -> list[GridPoint]:
        return [
            GridPoint(
                number=need.number,
                title=need.title,
                importance=need.importance.mean,
                experience=need.experience.mean,
                quadrant=st.quadrant(importance=need.importance.mean, experience=need.experience.mean),
            )
            for theme in self.themes
            for need in theme.needs
            if need.gap is not None
        ]


def build_report(*, round_: Round, language: str) -> Report:
    """The report of a closed round in a language: three queries whatever the team's size."""
    framework = framework_for(round_.instrument, language)
    summary = RoundSummary.objects.filter(round=round_).first()
    if summary is None:
        raise ReportGone
    themes = {s.theme_key: s for s in ThemeStatistic.objects.filter(round=round_)}
    rows = {(r.item.key, r.role, r.scale): r for r in ItemStatistic.objects.filter(round=round_).select_related("item")}

    def chief(key: str, scale: str) -> float | None:
        row = rows.get((key, Role.CHIEF, scale))
        return row.mean if row else None

    def leaders(key: str, scale: str) -> Figure:
        return Figure.of(rows.get((key, Role.LEADER, scale)))

    reports, number = [], 0
    for theme in framework.themes:
        report = ThemeReport(theme=theme, stat=themes[theme.key])
        for need in theme.needs:
            number += 1
            report.needs.append(
                NeedRow(
                    number=number,
                    key=need.key,
                    title=need.title,
                    leader_text=need.leader_text,
                    chief_text=need.chief_text,
                    importance=leaders(need.key, Scale.IMPORTANCE),
                    experience=leaders(need.key, Scale.EXPERIENCE),
                    chief_self=chief(need.key, Scale.EXPERIENCE),
                )
            )
        for exp in theme.expectations:
            report.expectations.append(
                ExpectationRow(
                    key=exp.key,
                    title=exp.title,
                    chief_text=exp.chief_text,
                    leader_text=exp.leader_text,
                    chief_importance=chief(exp.key, Scale.IMPORTANCE),
                    chief_fulfilment=chief(exp.key, Scale.FULFILMENT),
                    leaders_fulfilment=leaders(exp.key, Scale.FULFILMENT),
                )
            )
        reports.append(report)
    return Report(round=round_, summary=summary, framework=framework, themes=reports)


def comments_for(*, round_: Round, theme_key: str, shown: bool) -> list[str]:
    """A theme's comments, if enough leaders answered; shuffled, undated, ungrouped (rule 4).

    `shown` is the round's `RoundSummary.comments_shown`, from the report or from a kept page
    rendered from it; comments themselves are never kept, so they are shuffled on every view.
    """
    if not shown:
        return []
    texts = [text for (text,) in _theme_comments.rows(round_id=round_.pk, theme_key=theme_key)]
    random.SystemRandom().shuffle(texts)
    return texts


# Read on every view of a theme page, so compiled once (gensidig/db/prepared.py). No order: they
# are shuffled above.
_theme_comments = Prepared(
    Comment,
    lambda round_id, theme_key: (
        Comment.objects.filter(round_id=round_id, theme_key=theme_key).order_by().values_list("text")
    ),
    round_id=int,
    theme_key=str,
)


def focus_sentences(theme: ThemeReport, *, to_chief: bool = True) -> list[str]:
    """Why a theme is in focus, one sentence per reason, to read aloud: to the chief, or, once the
    report is shared, to the team."""
    stat = theme.stat
    values = {
        "importance": _num(stat.importance) if stat.importance is not None else "",
        "experience": _num(stat.experience) if stat.experience is not None else "",
        "gap": _num(stat.gap) if stat.gap is not None else "",
        "chief": _num(stat.experience + stat.blind_spot) if stat.blind_spot is not None else "",
        "sd": _num(stat.disagreement) if stat.disagreement is not None else "",
        "leaders": _num(stat.leaders_fulfilment) if stat.leaders_fulfilment is not None else "",
        "chief_fulfilment": _num(stat.chief_fulfilment) if stat.chief_fulfilment is not None else "",
    }
    gap = _("Leaders rate its importance %(importance)s but experience it at %(experience)s: a gap of %(gap)s.")
    disagreement = _("Leaders see this very differently from one another (spread %(sd)s), so it is worth hearing why.")
    if to_chief:
        blind_spot = _("You rate yourself at %(chief)s here; your leaders' experience averages %(experience)s.")
        mirror = _("Leaders rate themselves at %(leaders)s on your expectations here; you find them met at %(chief)s.")
    else:
        blind_spot = _("The chief rates themself at %(chief)s here; the leaders' experience averages %(experience)s.")
        mirror = _(
            "Leaders rate themselves at %(leaders)s on the chief's expectations here; the chief finds them met at "
            "%(chief)s."
        )
    sentences = {
        "gap": gap % values,
        "blind_spot": blind_spot % values,
        "disagreement": disagreement % values,
        "mirror": mirror % {**values, "chief": values["chief_fulfilment"]},
    }
    return [sentences[reason] for reason in stat.reasons if reason in sentences]


def _num(value: float) -> str:
    return score_text(value)
