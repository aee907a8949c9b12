"""Campaigns across an organisation, and the roll-ups that close them (DESIGN.md 2.6)."""

import datetime

import pytest
from django.utils import timezone

from gensidig.models import (
    CampaignStatus,
    InvitationMail,
    ItemStatistic,
    RatingCounter,
    RollupParticipation,
    RollupStatistic,
    RollupTheme,
    Round,
    Team,
)
from gensidig.models.choices import Role, RoundStatus, Scale
from gensidig.services.campaigns import CampaignError, create_campaign, launch_campaign, preview
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.results import statistics as st
from gensidig.services.results.suppression import Unit
from gensidig.services.survey.closing import close_campaign, close_round
from gensidig.services.survey.rounds import open_round, reissue_links

from ..attackers import count_kept, figure_totals, over_narrowed, ratings_kept
from ..factories import answer, answers_for
from .test_suppression import leaks

pytestmark = pytest.mark.django_db

# A director; under them chiefs A (6 leaders, one of whom leads 5 more), B (3 leaders: under k)
# and C (5 leaders).
CHART = [("director@k.dk", "Direktør", "", "Direktionen")]
CHART += [(f"{c}@k.dk", f"Chef {c}", "director@k.dk", f"Område {c}") for c in "abc"]
CHART += [(f"a{i}@k.dk", f"Leder a{i}", "a@k.dk", "Område A") for i in range(1, 7)]
CHART += [(f"b{i}@k.dk", f"Leder b{i}", "b@k.dk", "Område B") for i in range(1, 4)]
CHART += [(f"c{i}@k.dk", f"Leder c{i}", "c@k.dk", "Område C") for i in range(1, 6)]
CHART += [(f"a1x{i}@k.dk", f"Leder a1x{i}", "a1@k.dk", "Område A1") for i in range(1, 6)]


def chart_bytes(rows=CHART) -> bytes:
    lines = ["email;name;manager_email;unit"] + [";".join(row) for row in rows]
    return "\n".join(lines).encode("utf-8")


@pytest.fixture
def organisation():
    result = apply_import(
        organisation_slug="kommune",
        organisation_name="Kommune",
        chart=read_chart(data=chart_bytes(), filename="chart.csv"),
    )
    return result.organisation


def team_of(organisation, chief_email):
    return Team.objects.get(organisation=organisation, chief__email=chief_email, active=True)


def new_campaign(organisation, root_team=None):
    return create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=root_team,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )


def test_the_preview_lists_every_team_and_flags_those_under_k(organisation):
    teams = {t.team.chief.email: t for t in preview(organisation=organisation, root_team=None)}
    assert set(teams) == {"director@k.dk", "a@k.dk", "b@k.dk", "c@k.dk", "a1@k.dk"}
    assert teams["director@k.dk"].leaders == 3 and teams["director@k.dk"].small
    assert teams["b@k.dk"].small and not teams["a@k.dk"].small


def test_a_branch_campaign_covers_the_team_and_everything_below_it(organisation):
    teams = preview(organisation=organisation, root_team=team_of(organisation, "a@k.dk"))
    assert {t.team.chief.email for t in teams} == {"a@k.dk", "a1@k.dk"}


def test_launching_opens_one_round_per_team_and_queues_one_invitation_each(organisation):
    campaign = new_campaign(organisation)
    rounds = launch_campaign(campaign=campaign, excluded_team_ids={team_of(organisation, "b@k.dk").pk})
    assert {r.team.chief.email for r in rounds} == {"director@k.dk", "a@k.dk", "c@k.dk", "a1@k.dk"}
    assert all(r.closes_at == campaign.closes_at and r.anonymity_threshold == 5 for r in rounds)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.OPEN and campaign.instrument is not None
    # a1 is a leader in A's team and the chief of their own: two invitations, two e-mails.
    a1 = InvitationMail.objects.filter(invitation__person__email="a1@k.dk", invitation__round__campaign=campaign)
    assert a1.count() == 2
    assert InvitationMail.objects.filter(invitation__round__campaign=campaign).count() == 4 + 3 + 6 + 5 + 5


def test_only_teams_under_k_can_be_left_out_and_a_campaign_launches_once(organisation):
    campaign = new_campaign(organisation)
    with pytest.raises(CampaignError):
        launch_campaign(campaign=campaign, excluded_team_ids={team_of(organisation, "a@k.dk").pk})
    launch_campaign(campaign=campaign)
    with pytest.raises(CampaignError):
        launch_campaign(campaign=campaign)


def test_a_team_with_an_open_round_keeps_it_and_sits_the_campaign_out(organisation):
    # More in test_campaign_admin.py: the campaign opens for the other teams rather than failing.
    own, _links = open_round(
        team=team_of(organisation, "c@k.dk"), closes_at=timezone.now() + datetime.timedelta(days=3)
    )
    rounds = launch_campaign(campaign=new_campaign(organisation))
    assert own.team_id not in {r.team_id for r in rounds} and len(rounds) == 4
    assert Round.objects.filter(team=own.team, status=RoundStatus.OPEN).get() == own


def answer_campaign(campaign, *, skip=()):
    """Every leader answers; a leader whose e-mail is in `skip` does not. Varied values, some "don't know"."""
    for round_ in Round.objects.filter(campaign=campaign):
        for index, link in enumerate(reissue_links(round_=round_)):
            if link.person.email in skip:
                continue

            def value(key, scale, i=index):
                return 0 if (i + len(key)) % 7 == 0 else 1 + (i + len(key) + len(scale)) % 5

            answer(link, answers_for(round_, link.role, value))


def published_units(campaign, item_id, scale):
    """The units of one question as the suppression saw them, and the pattern as stored."""
    rounds = {r.team_id: r for r in Round.objects.filter(campaign=campaign).select_related("team")}
    n_of = {}
    for team_id, round_ in rounds.items():
        counter = RatingCounter.objects.get(round=round_, role=Role.LEADER, item_id=item_id, scale=scale)
        n_of[team_id] = st.answered(counter.counts)
    parent = {}
    for team_id, round_ in rounds.items():
        ancestor = round_.team.parent_id
        while ancestor is not None and ancestor not in rounds:
            ancestor = Team.objects.get(pk=ancestor).parent_id
        parent[team_id] = ancestor
    units = [Unit(key=t, parent=parent[t], n=n_of[t]) for t in rounds]
    own_shown = {
        r.round.team_id
        for r in ItemStatistic.objects.filter(
            round__campaign=campaign, role=Role.LEADER, item_id=item_id, scale=scale, withheld=False
        ).select_related("round")
    }
    total_shown = set(
        RollupStatistic.objects.filter(campaign=campaign, item_id=item_id, scale=scale, withheld=False).values_list(
            "team_id", flat=True
        )
    )

    class Stored:
        def own_shown(self, key):
            return key in own_shown

        def total_shown(self, key):
            if not [u for u in units if u.parent == key]:
                return key in own_shown
            return key in total_shown

    return units, Stored()


def test_closing_computes_one_pattern_that_no_subtraction_can_undo(organisation):
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign, skip={"c5@k.dk", "a1x5@k.dk"})
    close_campaign(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert not Round.objects.filter(campaign=campaign, status=RoundStatus.OPEN).exists()
    items = {c.item_id for c in RatingCounter.objects.filter(round__campaign=campaign, role=Role.LEADER)}
    checked = 0
    for item_id in items:
        for scale in (Scale.IMPORTANCE, Scale.EXPERIENCE, Scale.FULFILMENT):
            if not RatingCounter.objects.filter(
                round__campaign=campaign, item_id=item_id, scale=scale, role=Role.LEADER
            ).exists():
                continue
            units, stored = published_units(campaign, item_id, scale)
            assert not leaks(units, stored, k=5), (item_id, scale)
            checked += 1
    assert checked == 66
    b_team = team_of(organisation, "b@k.dk")
    b_round = Round.objects.get(campaign=campaign, team=b_team)
    assert not ItemStatistic.objects.filter(round=b_round, role=Role.LEADER, withheld=False).exists()


def stored_hierarchy(campaign):
    """The campaign's teams as stored at close: parent and the branch of each."""
    rows = {p.team_id: p for p in RollupParticipation.objects.filter(campaign=campaign)}
    children = {t: [c for c, p in rows.items() if p.parent_id == t] for t in rows}

    def branch(team_id):
        found = [team_id]
        for child in children[team_id]:
            found += branch(child)
        return found

    return rows, {t: branch(t) for t in rows}


def test_an_independent_solver_finds_no_hidden_figure_narrowed_past_its_protection_for_any_reader(organisation):
    """Every leaders' question and the participation counts, as stored, attacked with HiGHS.

    Readers: HR (every shown figure) and each chief (their teams and everything below, knowing how
    many of their own team answered). Ratings: the sum of each team's answers, with its true n.
    """
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign, skip={"c5@k.dk", "a1x5@k.dk", "a6@k.dk"})
    close_campaign(campaign=campaign)
    rows, branch = stored_hierarchy(campaign)
    team_of_round = dict(Round.objects.filter(campaign=campaign).values_list("pk", "team_id"))
    n = {}
    for counter in RatingCounter.objects.filter(round__campaign=campaign, role=Role.LEADER):
        n[(team_of_round[counter.round_id], counter.item_id, counter.scale)] = st.answered(counter.counts)
    own = {
        (team_of_round[r.round_id], r.item_id, r.scale): r
        for r in ItemStatistic.objects.filter(round__campaign=campaign, role=Role.LEADER)
    }
    rollup = {(r.team_id, r.item_id, r.scale): r for r in RollupStatistic.objects.filter(campaign=campaign)}
    questions = {(item_id, scale) for (_t, item_id, scale) in n}
    assert len(questions) == 66
    attacked = 0
    for item_id, scale in sorted(questions):
        bounds = {t: (n[(t, item_id, scale)], 5 * n[(t, item_id, scale)]) for t in rows}
        facts, hidden = [], []
        for team_id in rows:
            cell = own[(team_id, item_id, scale)]
            if cell.withheld:
                hidden.append(([team_id], n[(team_id, item_id, scale)]))
            else:
                facts.append(
                    (
                        frozenset([team_id]),
                        *figure_totals(
                            n=cell.n,
                            mean=cell.mean,
                            precision=cell.precision,
                            sd=cell.sd,
                            distribution=cell.distribution,
                        ),
                    )
                )
            if len(branch[team_id]) > 1:
                total = rollup[(team_id, item_id, scale)]
                size = sum(n[(t, item_id, scale)] for t in branch[team_id])
                if total.withheld:
                    hidden.append((branch[team_id], size))
                else:
                    assert total.n == size
                    facts.append(
                        (frozenset(branch[team_id]), *figure_totals(n=size, mean=total.mean, precision=total.precision))
                    )
        assert not over_narrowed(bounds, facts, hidden, ratings_kept), (item_id, scale)
        attacked += len(hidden)
    assert attacked >= 66 * 2  # B under k, and what covers for it, in every question

    chiefs = {}
    for team in Team.objects.filter(pk__in=rows):
        chiefs.setdefault(team.chief_id, []).append(team.pk)
    answered = {
        t: Round.objects.get(campaign=campaign, team_id=t).invitations.filter(role=Role.LEADER, used=True).count()
        for t in rows
    }
    for chief, led in [(None, [t for t, p in rows.items() if p.parent_id is None]), *chiefs.items()]:
        seen = sorted({m for t in led for m in branch[t]})
        bounds = {t: (0, rows[t].invited) for t in seen}
        facts, hidden = [], []
        for t in seen:
            if rows[t].answered is None:
                hidden.append(([t], rows[t].invited))
            else:
                facts.append((frozenset([t]), rows[t].answered, rows[t].answered))
            if len(branch[t]) > 1:
                if rows[t].branch_answered is None:
                    hidden.append((branch[t], rows[t].branch_invited))
                else:
                    facts.append((frozenset(branch[t]), rows[t].branch_answered, rows[t].branch_answered))
        known = {} if chief is None else {t: answered[t] for t in led}
        assert not over_narrowed(bounds, facts, hidden, count_kept, known), chief
        if chief is None:
            assert hidden  # HR has hidden counts to attack


def test_a_team_under_k_included_in_a_campaign_still_gets_its_chiefs_own_answers(organisation):
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign)
    close_campaign(campaign=campaign)
    b_round = Round.objects.get(campaign=campaign, team=team_of(organisation, "b@k.dk"))
    assert ItemStatistic.objects.filter(round=b_round, role=Role.CHIEF, withheld=False, mean__isnull=False).exists()


def test_participation_counts_are_suppressed_like_answers(organisation):
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign, skip={"c5@k.dk", "c4@k.dk"})
    close_campaign(campaign=campaign)
    rows = {
        p.team.chief.email: p
        for p in RollupParticipation.objects.filter(campaign=campaign).select_related("team__chief")
    }
    assert rows["b@k.dk"].answered is None  # 3 answered, under k
    assert rows["c@k.dk"].answered is None  # 3 of 5 answered, under k
    assert rows["a@k.dk"].answered == 6 and rows["a@k.dk"].invited == 6
    assert rows["director@k.dk"].branch_invited == 3 + 6 + 3 + 5 + 5
    # Never a lone hidden count beside a shown total.
    top = rows["director@k.dk"]
    if top.branch_answered is not None:
        hidden_children = [e for e in ("a@k.dk", "b@k.dk", "c@k.dk") if rows[e].branch_answered is None]
        assert len(hidden_children) != 1


def test_the_heatmap_themes_are_stored_for_every_unit(organisation):
    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign)
    close_campaign(campaign=campaign)
    top = team_of(organisation, "director@k.dk")
    branch = RollupTheme.objects.filter(campaign=campaign, team=top, scope=RollupTheme.Scope.BRANCH)
    assert branch.count() == 6
    assert all(row.experience is not None for row in branch)  # 22 leaders in all


def test_closing_a_campaign_round_closes_the_whole_campaign(organisation):
    campaign = new_campaign(organisation)
    rounds = launch_campaign(campaign=campaign)
    close_round(round_=rounds[0])
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CLOSED
    assert not Round.objects.filter(campaign=campaign, status=RoundStatus.OPEN).exists()


def test_a_team_whose_figures_protect_a_smaller_one_is_told_why(organisation, client):
    from django.urls import reverse

    from gensidig.models import RoundSummary
    from gensidig.services.signin import user_for_email

    campaign = new_campaign(organisation)
    launch_campaign(campaign=campaign)
    answer_campaign(campaign)
    close_campaign(campaign=campaign)
    protected = RoundSummary.objects.filter(round__campaign=campaign, hidden_to_protect_others__gt=0).select_related(
        "round__team__chief"
    )
    assert protected.exists()  # with B under k, a sibling must cover for it
    summary = protected.first()
    client.force_login(user_for_email(summary.round.team.chief.email))
    page = client.get(reverse("gensidig:report", args=[summary.round.public_id])).content.decode()
    assert 'class="alert alert-info"' in page
    assert "importance and experience are close everywhere" not in page


def test_a_campaign_with_a_later_opening_day_is_scheduled_and_opens_by_itself(organisation):
    from gensidig.services.campaigns import launch_due_campaigns

    campaign = create_campaign(
        organisation=organisation,
        name="Efterår",
        root_team=None,
        opens_on=timezone.localdate() + datetime.timedelta(days=3),
        closes_at=timezone.now() + datetime.timedelta(days=20),
    )
    small = team_of(organisation, "b@k.dk")
    assert launch_campaign(campaign=campaign, excluded_team_ids={small.pk}) == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED and not Round.objects.filter(campaign=campaign).exists()
    assert launch_due_campaigns() == []  # not yet
    opened = launch_due_campaigns(now=timezone.now() + datetime.timedelta(days=3))
    assert [c.pk for c in opened] == [campaign.pk]
    rounds = Round.objects.filter(campaign=campaign)
    assert rounds.count() == 4 and not rounds.filter(team=small).exists()
    assert InvitationMail.objects.filter(invitation__round__campaign=campaign).exists()
