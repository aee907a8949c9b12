"""The meeting guide: an agenda for the management team's conversation, built from the report.

The guide takes the focus themes (or the chief's own choice) and, for each, puts together what the
need involves, practices to try, the risks of leaving it, the chief's dilemmas as questions, the
chief's expectations with the mirror, reflection questions for both sides and the agreements made
last time. Figures in it are the report's, so nothing the anonymity rules withhold can appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from gensidig import framework as fw
from gensidig.models import Agreement, GuideFormat, MeetingGuide, Round
from gensidig.services.agreements import agreements_by_theme, earlier_agreements
from gensidig.services.reports import Report, ThemeReport, build_report
from gensidig.services.results.rendered import retire
from gensidig.services.results.trends import Trend, trend_for
from gensidig.services.survey.instruments import framework_for

# Minutes of everything but the themes, and the number of themes a format makes room for.
TIMINGS = {
    GuideFormat.TWO_HOURS: {
        "total": 120,
        "welcome": 10,
        "differences": 15,
        "agreements": 25,
        "close": 10,
        "break": 0,
        "themes": 2,
    },
    GuideFormat.HALF_DAY: {
        "total": 210,
        "welcome": 15,
        "differences": 25,
        "agreements": 25,
        "close": 10,
        "break": 15,
        "themes": 3,
    },
}


class GuideRejected(ValueError):
    """The guide cannot be set up as asked; the message says why."""


@dataclass
class GuideTheme:
    report: ThemeReport
    minutes: int
    earlier: list[Agreement] = field(default_factory=list)  # agreed last time, to follow up
    agreed: list[Agreement] = field(default_factory=list)  # agreed about this round

    @property
    def theme(self) -> fw.Theme:
        return self.report.theme


@dataclass
class Step:
    """One part of the agenda, and one screen in meeting mode."""

    kind: str  # welcome, differences, theme, break, agreements, close
    title: str
    minutes: int
    start: int  # minutes from the start of the meeting
    theme: GuideTheme | None = None


@dataclass
class Swap:
    """One focus theme the guide leaves out, and a theme of the guide it could take the place of."""

    take: ThemeReport
    instead_of: ThemeReport
    theme_keys: list[str]  # the guide's themes after the swap


@dataclass
class Guide:
    round: Round
    report: Report
    trend: Trend
    format: str
    themes: list[GuideTheme]
    steps: list[Step]
    chosen_by_chief: bool

    @property
    def differences(self) -> tuple[fw.Difference, ...]:
        return self.report.framework.differences

    @property
    def room(self) -> int:
        """How many themes the format makes room for."""
        return TIMINGS[GuideFormat(self.format)]["themes"]

    @property
    def left_out(self) -> list[ThemeReport]:
        """The report's focus themes that are not in the guide (the format had no room, or the chief chose)."""
        keys = {t.theme.key for t in self.themes}
        return [theme for theme in self.report.focus if theme.key not in keys]

    def swaps(self) -> list[Swap]:
        """Each left-out focus theme in the place of each theme of the guide, as the chief may choose."""
        keys = [t.theme.key for t in self.themes]
        return [
            Swap(take=theme, instead_of=item.report, theme_keys=[theme.key if k == item.theme.key else k for k in keys])
            for theme in self.left_out
            for item in self.themes
        ]


def settings_for(round_: Round) -> MeetingGuide:
    return MeetingGuide.objects.filter(round=round_).first() or MeetingGuide(round=round_)


def default_focus(report: Report, count: int) -> list[str]:
    """The report's focus themes first; then by gap; for a team under k, the chief's own lowest."""
    if report.any_theme_scored:
        ordered = [t.key for t in report.by_focus]
    else:
        ordered = [
            t.key for t in sorted(report.themes, key=lambda t: (t.stat.chief_self is None, t.stat.chief_self or 0))
        ]
    return ordered[:count]


def choose(*, round_: Round, format: str, focus_theme_keys: list[str]) -> MeetingGuide:
    """Save the chief's choice of format and themes (empty: the report's focus themes)."""
    if format not in GuideFormat.values:
        raise GuideRejected(_("Choose one of the formats shown."))
    valid = [theme.key for theme in framework_for(round_.instrument, "da").themes]
    keys = [key for key in dict.fromkeys(focus_theme_keys) if key]
    if any(key not in valid for key in keys):
        raise GuideRejected(_("Choose themes from the six in the survey."))
    if len(keys) > 4:
        raise GuideRejected(_("Choose at most four themes: a meeting cannot do justice to more."))
    guide, _created = MeetingGuide.objects.update_or_create(
        round=round_, defaults={"format": format, "focus_theme_keys": keys}
    )
    retire(team_ids=[round_.team_id])  # the kept guide PDF of the old choices
    return guide


def build_guide(*, round_: Round, language: str) -> Guide:
    """The guide of a closed round in a language, with its agenda and time boxes."""
    settings = settings_for(round_)
    report = build_report(round_=round_, language=language)
    timing = TIMINGS[GuideFormat(settings.format)]
    keys = settings.focus_theme_keys or default_focus(report, timing["themes"])
    fixed = sum(timing[part] for part in ("welcome", "differences", "agreements", "close", "break"))
    per_theme = (timing["total"] - fixed) // max(len(keys), 1)
    trend = trend_for(round_)
    earlier = earlier_agreements(round_, previous=trend.previous) if trend.previous else {}
    agreed = agreements_by_theme(round_)
    themes = [
        GuideTheme(
            report=report.theme(key), minutes=per_theme, earlier=earlier.get(key, []), agreed=agreed.get(key, [])
        )
        for key in keys
    ]
    steps: list[Step] = []

    def add(kind: str, title: str, minutes: int, theme: GuideTheme | None = None) -> None:
        start = steps[-1].start + steps[-1].minutes if steps else 0
        steps.append(Step(kind=kind, title=title, minutes=minutes, start=start, theme=theme))

    add("welcome", _("Welcome: why we are here"), timing["welcome"])
    add("differences", _("Leading leaders is different"), timing["differences"])
    for index, theme in enumerate(themes):
        add("theme", theme.report.title, theme.minutes, theme)
        # The break falls in the middle of the themes (after the only one, if there is one).
        if timing["break"] and index == (len(themes) - 1) // 2:
            add("break", _("Break"), timing["break"])
    add("agreements", _("What we agree"), timing["agreements"])
    add("close", _("Round-up and next steps"), timing["close"])
    return Guide(
        round=round_,
        report=report,
        trend=trend,
        format=settings.format,
        themes=themes,
        steps=steps,
        chosen_by_chief=bool(settings.focus_theme_keys),
    )
