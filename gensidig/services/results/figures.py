"""Turn closed rounds' counters into the stored figures that reports, exports and roll-ups read.

Reports read these rows instead of the counters, so their cost does not grow with the team, and a
figure that the anonymity rules withhold is never stored here at all: a withheld row keeps only
the fact that it is withheld, and why. What is stored is what is published, at the rounding it is
published with (services.results.protection decides both), so nothing drawn from it -- a chart's
coordinates, a difference, a theme's mean -- can be more exact than the figures a reader sees.

A campaign's rounds are done all at once (services.results.rollups), a round outside any campaign
on its own (`compute_results`): counters and invitations are read once, every question is
protected over the whole hierarchy, and the rows are written in bulk (COPY on PostgreSQL), with no
model object per row.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from django.db import transaction

from gensidig.db.bulk import insert_rows, insert_while_building
from gensidig.models import Invitation, ItemStatistic, RatingCounter, Round, RoundSummary, ThemeStatistic
from gensidig.models.choices import DONT_KNOW, SCALES_BY_ROLE_AND_KIND, ItemKind, Precision, Role, Scale, Withheld
from gensidig.services.results import statistics as st
from gensidig.services.results.distributions import HALVES, TENTHS, Shown
from gensidig.services.results.earlier import Comparisons, comparisons_for, leader_members
from gensidig.services.results.hierarchy import Hierarchy, round_hierarchy
from gensidig.services.results.protection import Team, prepare_teams, protect_question
from gensidig.services.survey.instruments import framework_for, items_by_key

COMMENTS_FLOOR = 5
PRECISION = {TENTHS: Precision.TENTH, HALVES: Precision.HALF, 1: Precision.WHOLE}


def comments_threshold(threshold: int) -> int:
    """Comments need at least max(k, 5) leaders (rule 4): a sentence identifies more than a number."""
    return max(threshold, COMMENTS_FLOOR)


def leader_questions(instrument) -> list[tuple]:
    """Every (item, scale) the leaders answer, in the instrument's order."""
    items = items_by_key(instrument)
    return [
        (item, scale)
        for item in sorted(items.values(), key=lambda i: i.position)
        for scale in SCALES_BY_ROLE_AND_KIND[(Role.LEADER, ItemKind(item.kind))]
    ]


@dataclass
class ClosedData:
    """What the close reads once: the counters and invitations of every round of a hierarchy."""

    hierarchy: Hierarchy
    leader_counts: dict = field(default_factory=dict)  # (team, item id, scale) -> (dk, c1..c5)
    chief_counts: dict = field(default_factory=lambda: defaultdict(dict))  # round id -> (item id, scale) -> counts
    leaders_answered: dict = field(default_factory=lambda: defaultdict(int))  # team -> n
    leaders_invited: dict = field(default_factory=lambda: defaultdict(int))
    chief_answered: set = field(default_factory=set)  # round ids
    members: dict = field(default_factory=dict)  # round id -> invited leaders


def read_closed(hierarchy: Hierarchy, counted=None) -> ClosedData:
    """Read what the close needs; the counters of rounds just counted come from `counted`
    (services.ballots.tally.Counted, whose rounds are popped as they are used), the rest from the table."""
    data = ClosedData(hierarchy=hierarchy)
    team_of_round = {r.pk: team_id for team_id, r in hierarchy.round_of.items()}

    def file(round_id, item_id, role, scale, per_value: tuple) -> None:
        if role == Role.LEADER:
            data.leader_counts[(team_of_round[round_id], item_id, scale)] = per_value
        else:
            data.chief_counts[round_id][(item_id, scale)] = per_value

    just_counted = counted.rows if counted is not None else {}
    unread = [round_id for round_id in team_of_round if round_id not in just_counted]
    for round_id in team_of_round:
        for item_id, role, scale, per_value in just_counted.pop(round_id, ()):
            file(round_id, item_id, role, scale, per_value)
    if unread:
        for round_id, item_id, role, scale, *per_value in (
            RatingCounter.objects.filter(round_id__in=unread)
            .order_by()
            .values_list("round_id", "item_id", "role", "scale", *RatingCounter.VALUE_FIELDS)
            .iterator(chunk_size=5000)
        ):
            file(round_id, item_id, role, scale, tuple(per_value))
    for round_id, role, used in Invitation.objects.filter(round_id__in=team_of_round).values_list(
        "round_id", "role", "used"
    ):
        if role == Role.LEADER:
            data.leaders_invited[team_of_round[round_id]] += 1
            data.leaders_answered[team_of_round[round_id]] += used
        elif used:
            data.chief_answered.add(round_id)
    data.members = leader_members(team_of_round)
    return data


def branch_members(data: ClosedData) -> dict[tuple[str, int], frozenset]:
    """The invited leaders of every cell: each team's own, and each branch's."""
    hierarchy = data.hierarchy
    own = {t: data.members.get(hierarchy.round_of[t].pk, frozenset()) for t in hierarchy.team_ids}
    cells, below = {}, {}
    for team_id in hierarchy.bottom_up():
        found = set(own[team_id])
        for child in hierarchy.children[team_id]:
            found |= below[child]
        below[team_id] = frozenset(found)
        cells[("own", team_id)] = own[team_id]
        if not hierarchy.is_leaf(team_id):
            cells[("total", team_id)] = below[team_id]
    return cells


@dataclass
class Published:
    """Every question's protected cells, and what each round's summary says about them."""

    questions: list  # (item, scale)
    results: dict  # (item id, scale) -> QuestionResult
    comparisons: Comparisons


def protect_all(*, data: ClosedData, instrument, k: int, organisation, campaign=None) -> Published:
    """Protect every leaders' question of the hierarchy at once (services.results.protection)."""
    hierarchy = data.hierarchy
    teams = prepare_teams([Team(key=t, parent=hierarchy.parent[t]) for t in hierarchy.team_ids])
    comparisons = comparisons_for(
        organisation=organisation,
        cells=branch_members(data),
        k=k,
        exclude_rounds=[r.pk for r in hierarchy.round_of.values()],
        exclude_campaign=campaign,
    )
    questions = leader_questions(instrument)
    results = {}
    for item, scale in questions:
        counts = {
            t: data.leader_counts[(t, item.pk, scale)]
            for t in hierarchy.team_ids
            if (t, item.pk, scale) in data.leader_counts
        }
        results[(item.pk, scale)] = protect_question(
            teams=teams, counts=counts, k=k, earlier=comparisons.for_question((item.key, scale))
        )
    return Published(questions=questions, results=results, comparisons=comparisons)


def figures_of(cell) -> st.Figures:
    """A protected cell as the statistics functions take it: only what is published."""
    shown: Shown | None = cell.shown if cell is not None else None
    if shown is None:
        return _HIDDEN
    return _published_figures(shown, cell.dont_know)


_HIDDEN = st.Figures.hidden()


# The close asks for the same few thousand published cells tens of thousands of times; the
# figures are frozen, so each is made once.
@lru_cache(maxsize=16384)
def _published_figures(shown: Shown, dont_know: int | None) -> st.Figures:
    return st.Figures(withheld=False, n=shown.n, mean=shown.mean_value, sd=shown.sd_value, dont_know=dont_know)


@lru_cache(maxsize=4096)
def _chief_answer(counts: tuple) -> tuple[int, int | None, int]:
    """How many times the chief answered a question, their answer, and their "don't know" count."""
    given = dict(enumerate(counts))
    return sum(counts), st.single_answer(given), given.get(DONT_KNOW, 0)


@lru_cache(maxsize=16384)
def _distribution(shown: Shown) -> str | None:
    if shown.full is not None:
        return json.dumps({"kind": "full", "counts": list(shown.full)})
    if shown.groups is not None:
        return json.dumps({"kind": "grouped", "counts": list(shown.groups)})
    return None


ITEM_COLUMNS = (
    "round_id",
    "item_id",
    "role",
    "scale",
    "withheld",
    "withheld_because",
    "n",
    "mean",
    "precision",
    "sd",
    "dont_know",
    "distribution",
)
THEME_COLUMNS = (
    "round_id",
    "theme_key",
    "position",
    "focus_rank",
    "approximate",
    *(f for f in st.ThemeFigures.__dataclass_fields__),
)
SUMMARY_COLUMNS = (
    "round_id",
    "leader_responses",
    "chief_answered",
    "leader_figures_shown",
    "hidden_to_protect_others",
    "changed_leaders",
    "coarsened",
    "hidden_for_history",
    "spreads_left_out",
    "responses_shown",
    "comments_shown",
)


@dataclass
class Rows:
    items: list = field(default_factory=list)
    themes: list = field(default_factory=list)
    summaries: list = field(default_factory=list)


def round_rows(
    *,
    round_: Round,
    team_id: int,
    data: ClosedData,
    published: Published,
    framework,
    items: Mapping,
    responses_shown: bool = True,
    rows: Rows,
) -> None:
    """Add one round's item, theme and summary rows to `rows`, from its protected cells."""
    k = round_.anonymity_threshold
    chief_counts = data.chief_counts.get(round_.pk, {})
    counted = defaultdict(int)
    approximate_items: set = set()

    def leaders(item, scale) -> st.Figures:
        cell = published.results[(item.pk, scale)].own[team_id]
        shown = cell.shown
        if shown is None:
            withheld_because = cell.withheld
            if withheld_because == Withheld.PATTERN:
                counted["protect"] += 1
            elif withheld_because == Withheld.HISTORY:
                counted["history"] += 1
            rows.items.append(
                (
                    round_.pk,
                    item.pk,
                    Role.LEADER,
                    scale,
                    True,
                    withheld_because,
                    None,
                    None,
                    Precision.TENTH,
                    None,
                    None,
                    None,
                )
            )
            return st.Figures.hidden()
        counted["shown"] += 1
        full = _would_show_spread(shown)
        if shown.per_point != TENTHS:
            counted["coarsened"] += 1
            approximate_items.add(item.pk)
        elif not full:
            counted["spreads"] += 1
        rows.items.append(
            (
                round_.pk,
                item.pk,
                Role.LEADER,
                scale,
                False,
                "",
                shown.n,
                shown.mean_value,
                PRECISION[shown.per_point],
                shown.sd_value,
                cell.dont_know,
                _distribution(shown),
            )
        )
        return figures_of(cell)

    def chief(item, scale) -> int | None:
        answers, value, dont_know = _chief_answer(tuple(chief_counts.get((item.pk, scale), _UNANSWERED)))
        rows.items.append(
            (round_.pk, item.pk, Role.CHIEF, scale, False, "", answers, value, Precision.TENTH, None, dont_know, None)
        )
        return value

    theme_results: dict[str, tuple[st.ThemeFigures, bool]] = {}
    for theme in framework.themes:
        needs = []
        for need in theme.needs:
            item = items[need.key]
            importance, experience = leaders(item, Scale.IMPORTANCE), leaders(item, Scale.EXPERIENCE)
            needs.append(
                st.NeedInput(importance=importance, experience=experience, chief_self=chief(item, Scale.EXPERIENCE))
            )
        expectations = [
            st.ExpectationInput(
                leaders_fulfilment=leaders(items[exp.key], Scale.FULFILMENT),
                chief_importance=chief(items[exp.key], Scale.IMPORTANCE),
                chief_fulfilment=chief(items[exp.key], Scale.FULFILMENT),
            )
            for exp in theme.expectations
        ]
        keys = {items[n.key].pk for n in theme.needs} | {items[e.key].pk for e in theme.expectations}
        theme_results[theme.key] = (st.theme_figures(needs, expectations), bool(keys & approximate_items))

    ranks = st.rank_focus({key: figures.focus_score for key, (figures, _a) in theme_results.items()})
    for theme in framework.themes:
        figures, approximate = theme_results[theme.key]
        values = asdict(figures)
        values["reasons"] = json.dumps(list(figures.reasons))
        rows.themes.append(
            (
                round_.pk,
                theme.key,
                theme.position,
                ranks.get(theme.key),
                approximate,
                *(values[name] for name in st.ThemeFigures.__dataclass_fields__),
            )
        )
    answered = data.leaders_answered[team_id]
    rows.summaries.append(
        (
            round_.pk,
            answered,
            round_.pk in data.chief_answered,
            counted["shown"] > 0,
            counted["protect"],
            published.comparisons.fewest_changed(("own", team_id)),
            counted["coarsened"],
            counted["history"],
            counted["spreads"],
            responses_shown,
            answered >= comments_threshold(k),
        )
    )


_UNANSWERED = (0,) * 6


def _would_show_spread(shown: Shown) -> bool:
    """Whether a shown cell shows everything rule 3 allows at its size (nothing left out)."""
    from gensidig.services.results.distributions import GROUPED_FROM

    groups_expected = shown.n >= GROUPED_FROM
    return shown.sd is not None and (not groups_expected or shown.groups is not None or shown.full is not None)


def store_rounds(*, round_ids: list[int], rows: Rows) -> None:
    """Replace these rounds' stored figures with `rows`, in bulk."""
    with transaction.atomic():
        ItemStatistic.objects.filter(round_id__in=round_ids).delete()
        ThemeStatistic.objects.filter(round_id__in=round_ids).delete()
        RoundSummary.objects.filter(round_id__in=round_ids).delete()
        insert_rows(ItemStatistic, ITEM_COLUMNS, rows.items)
        insert_rows(ThemeStatistic, THEME_COLUMNS, rows.themes)
        insert_rows(RoundSummary, SUMMARY_COLUMNS, rows.summaries)


# Rounds whose rows are built and written together by `store_in_groups`: what the close holds of
# the rows at once, whatever the size of the campaign.
ROUNDS_PER_GROUP = 200


def store_in_groups(
    *,
    data: ClosedData,
    published: Published,
    instrument,
    responses_shown: Mapping | None = None,
    group: int = ROUNDS_PER_GROUP,
) -> None:
    """`store_rounds` for every round of the hierarchy, `group` rounds' rows at a time.

    The rows, and the order they are written in, are those of one `build_rows` over the whole
    hierarchy; only fewer of them are held at once.
    """
    teams = list(data.hierarchy.round_of)
    # Read now, in this thread: the groups are built in another, which may not query.
    framework_for(instrument, "da")
    items_by_key(instrument)

    def groups():
        for start in range(0, len(teams), group):
            rows = build_rows(
                data=data,
                published=published,
                instrument=instrument,
                responses_shown=responses_shown,
                team_ids=teams[start : start + group],
            )
            yield (
                (ItemStatistic, ITEM_COLUMNS, rows.items),
                (ThemeStatistic, THEME_COLUMNS, rows.themes),
                (RoundSummary, SUMMARY_COLUMNS, rows.summaries),
            )

    with transaction.atomic():
        store_rounds(round_ids=[r.pk for r in data.hierarchy.round_of.values()], rows=Rows())
        insert_while_building(groups())


def build_rows(
    *,
    data: ClosedData,
    published: Published,
    instrument,
    responses_shown: Mapping | None = None,
    team_ids: Iterable[int] | None = None,
) -> Rows:
    """Every round's rows of a hierarchy, or of its `team_ids`; `responses_shown` says whose answer
    count others may see."""
    framework = framework_for(instrument, "da")
    items = items_by_key(instrument)
    rows = Rows()
    round_of = data.hierarchy.round_of
    for team_id in round_of if team_ids is None else team_ids:
        round_ = round_of[team_id]
        round_rows(
            round_=round_,
            team_id=team_id,
            data=data,
            published=published,
            framework=framework,
            items=items,
            responses_shown=True if responses_shown is None else team_id in responses_shown,
            rows=rows,
        )
    return rows


def compute_results(*, round_: Round, counted=None) -> RoundSummary:
    """Compute and store everything a report of this round (outside any campaign) may show;
    `counted` is what the close just counted, if it did (see `read_closed`)."""
    hierarchy = round_hierarchy(round_)
    data = read_closed(hierarchy, counted)
    published = protect_all(
        data=data, instrument=round_.instrument, k=round_.anonymity_threshold, organisation=round_.team.organisation
    )
    store_rounds(round_ids=[round_.pk], rows=build_rows(data=data, published=published, instrument=round_.instrument))
    return RoundSummary.objects.get(round=round_)
