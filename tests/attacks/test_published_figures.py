"""The chief, the chief of chiefs and HR as attackers of the published figures (DESIGN.md 2.3, 2.5, 2.6).

Each test is one attack, built from the numbers it was first found with, that worked against the
code before the audit: it reads only what its reader can read (participation counts as HR and a
chief see them, a report as the chief sees it, the campaign page), works out what it can with a
solver or by trying every distribution (tests/attackers.py, which knows nothing of how the figures
were protected), and asserts that it learns nothing it should not.
"""

import datetime
import math
import random
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from gensidig.models import Campaign, Person, ReminderBatch, RollupParticipation, Round, Team, TeamMembership
from gensidig.models.choices import Role
from gensidig.services.access import add_admin
from gensidig.services.campaigns import create_campaign, launch_campaign
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.organisation.teams import ensure_login
from gensidig.services.personal_data import erase_person
from gensidig.services.reports import build_report
from gensidig.services.survey.closing import close_campaign, close_round
from gensidig.services.survey.rounds import reissue_links

from ..attackers import count_kept, ends, figure_totals, fitting, lp_interval, mean_totals, over_narrowed, totals
from ..factories import answer, answers_for, leader_links, make_team, start_round

pytestmark = pytest.mark.django_db


# --- HR and the chief of chiefs: "27 of 28" over hidden teams that all answered -----------------


def chart(units):
    """A branch chief X over unit chiefs u1.. (X's own leaders), each with their own leaders."""
    rows = [("x@k.dk", "Chef X", "", "Område X")]
    for unit, leaders in units.items():
        rows.append((f"{unit}@k.dk", f"Leder {unit}", "x@k.dk", "Område X"))
        rows += [(f"{unit}-{i}@k.dk", f"Leder {unit}-{i}", f"{unit}@k.dk", f"Enhed {unit}") for i in range(leaders)]
    lines = ["email;name;manager_email;unit"] + [";".join(row) for row in rows]
    return "\n".join(lines).encode()


def run_campaign(units, answering, *, value=4):
    """Import the chart, run a campaign over it in which `answering[unit]` of each unit's leaders
    (and every one of X's own) answer, and close it."""
    organisation = apply_import(
        organisation_slug="k", organisation_name="K", chart=read_chart(data=chart(units), filename="c.csv")
    ).organisation
    campaign = create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    launch_campaign(campaign=campaign)
    for round_ in Round.objects.filter(campaign=campaign).select_related("team__chief"):
        unit = round_.team.chief.email.split("@")[0]
        links = leader_links(reissue_links(round_=round_))
        for link in links[: answering.get(unit, len(links))]:
            answer(link, answers_for(round_, Role.LEADER, value))
    return close_campaign(campaign=campaign)


def participation_facts(campaign, *, knows_own_of=None):
    """The counts as HR (or a chief, who also knows their own team's) reads them, as facts on sums."""
    rows = {p.team_id: p for p in RollupParticipation.objects.filter(campaign=campaign)}
    parent = dict(Team.objects.filter(pk__in=rows).values_list("pk", "parent_id"))
    children = {t: [c for c in rows if parent[c] == t] for t in rows}

    def branch(team_id):
        found = [team_id]
        for child in children[team_id]:
            found += branch(child)
        return found

    bounds = {t: (0, row.invited) for t, row in rows.items()}
    facts = []
    for team_id, row in rows.items():
        if row.answered is not None:
            facts.append((frozenset([team_id]), row.answered, row.answered))
        if row.branch_answered is not None:
            facts.append((frozenset(branch(team_id)), row.branch_answered, row.branch_answered))
    if knows_own_of is not None:
        round_ = Round.objects.get(campaign=campaign, team=knows_own_of)
        own = round_.invitations.filter(role=Role.LEADER, used=True).count()
        facts.append((frozenset([knows_own_of.pk]), own, own))
    hidden = []
    for team_id, row in rows.items():
        if row.answered is None:
            hidden.append((frozenset([team_id]), row.invited))
        if row.branch_answered is None:
            hidden.append((frozenset(branch(team_id)), row.branch_invited))
    return bounds, facts, hidden


def test_hr_and_the_chief_of_chiefs_cannot_tell_that_every_leader_of_a_hidden_team_answered():
    units = {"u1": 6, "u2": 9, "u3": 4, "u4": 5, "u5": 4}
    campaign = run_campaign(units, answering={"u1": 5})  # 5 of 6, 9 of 9, and 4, 5 and 4 all answered
    x = Team.objects.get(chief__email="x@k.dk")
    for reader in (None, x):  # HR, and X, who knows how many of their own team answered
        bounds, facts, hidden = participation_facts(campaign, knows_own_of=reader)
        assert hidden, "the small teams' counts are hidden"
        for members, invited in hidden:
            if reader is not None and members == {x.pk}:
                continue
            lo, hi = lp_interval(bounds, facts, members)
            assert lo < invited, f"{sorted(members)}: everyone of {invited} answered, says the solver"
            assert hi > 0, f"{sorted(members)}: nobody answered, says the solver"


# --- A chief, from the export: mean, spread and groups that fit one distribution ------------------


def test_a_chief_cannot_work_out_the_lowest_and_highest_answer_of_a_cell_with_five_to_seven_answers():
    rng = random.Random(215)
    team = make_team(leaders=7)
    round_, links = start_round(team)
    for link in leader_links(links)[:6]:
        answer(link, answers_for(round_, Role.LEADER, lambda key, scale: rng.choice((2, 3, 3, 4, 4, 4, 5))))
    round_ = close_round(round_=round_)
    with translation.override("da"):
        report = build_report(round_=round_, language="da")
    pinned, checked = [], 0
    for theme in report.themes:
        for need in theme.needs:
            for name, figure in (("importance", need.importance), ("experience", need.experience)):
                if figure.withheld:
                    continue
                checked += 1
                distribution = figure.distribution or {}
                groups = distribution.get("counts") if distribution.get("kind") == "grouped" else None
                shown = fitting(figure.n, mean=Decimal(str(figure.mean)), sd=figure.sd, groups=groups)
                alone = fitting(figure.n, mean=Decimal(str(figure.mean)))
                lows, highs = ends(shown)
                mean_lows, mean_highs = ends(alone)
                # Both ends pinned, where the mean alone would have left one open.
                if len(lows) == 1 and len(highs) == 1 and (len(mean_lows) > 1 or len(mean_highs) > 1):
                    pinned.append((need.key, name))
    assert checked == 2 * sum(len(t.needs) for t in report.themes)
    assert not pinned, f"{len(pinned)} of {checked} cells give the lowest and highest answer away"


# --- A chief, across rounds: nine answer, one leaves, eight answer as before -------------------


def shown_totals(figure):
    """The sums of the answers a report's figure allows, read as the chief reads it."""
    precision = getattr(figure, "precision", "tenth")
    distribution = figure.distribution or {}
    if distribution.get("kind") == "full":
        return totals([tuple(distribution["counts"])])
    groups = distribution.get("counts") if distribution.get("kind") == "grouped" else None
    if figure.sd is None and groups is None:
        return mean_totals(figure.n, Decimal(str(figure.mean)), precision)
    return totals(fitting(figure.n, mean=Decimal(str(figure.mean)), precision=precision, sd=figure.sd, groups=groups))


@pytest.mark.parametrize("erased", [False, True], ids=["kept", "erased"])
def test_a_chief_cannot_subtract_two_rounds_to_learn_the_answers_of_a_leader_who_left(erased):
    # Erased: the leader left and HR erased them (GDPR) before the next round closed; their old
    # invitation no longer names them, and must still count as someone who is not there now.
    rng = random.Random(63)
    team = make_team(leaders=9)
    people = [m.person for m in TeamMembership.objects.filter(team=team).order_by("pk")]
    plan = {person.pk: {} for person in people}

    def answers_of(person):
        def value(key, scale):
            return plan[person.pk].setdefault((key, scale), rng.randint(1, 5))

        return value

    rounds = []
    for number in (1, 2):
        round_, links = start_round(team)
        for link in leader_links(links):
            answer(link, answers_for(round_, Role.LEADER, answers_of(link.person)))
        rounds.append(close_round(round_=round_))
        if number == 1:
            leaver = people[0]
            TeamMembership.objects.filter(team=team, person=leaver).delete()
            if erased:
                Person.objects.filter(pk=leaver.pk).update(active=False, left_on=datetime.date.today())
                erase_person(person=leaver)
    first, second = (build_report(round_=r, language="da") for r in rounds)
    learned = []
    for theme_then, theme_now in zip(first.themes, second.themes, strict=True):
        pairs = [
            (n.importance, m.importance, n.key, "importance")
            for n, m in zip(theme_then.needs, theme_now.needs, strict=True)
        ]
        pairs += [
            (n.experience, m.experience, n.key, "experience")
            for n, m in zip(theme_then.needs, theme_now.needs, strict=True)
        ]
        pairs += [
            (e.leaders_fulfilment, f.leaders_fulfilment, e.key, "fulfilment")
            for e, f in zip(theme_then.expectations, theme_now.expectations, strict=True)
        ]
        for then, now, key, scale in pairs:
            if then.withheld or now.withheld:
                continue
            then_lo, then_hi = shown_totals(then)
            now_lo, now_hi = shown_totals(now)
            # Everyone else answered as before: the difference is the leaver's answer.
            low, high = max(1, then_lo - now_hi), min(5, then_hi - now_lo)
            assert low <= plan[leaver.pk][(key, scale)] <= high
            if high - low < 2:
                learned.append((key, scale, low, high))
    assert not learned, f"the leaver's answer narrowed to under two points on {len(learned)} questions"


# --- HR: reminder counts where the count of answers is hidden ---------------------------------


def test_reminder_counts_do_not_tell_hr_how_many_answered_where_that_count_is_hidden():
    units = {"u1": 6}
    organisation = apply_import(
        organisation_slug="k", organisation_name="K", chart=read_chart(data=chart(units), filename="c.csv")
    ).organisation
    _org, hr = add_admin(email="hr@k.dk", organisation_slug="k")
    campaign = create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=Team.objects.get(chief__email="u1@k.dk"),
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    launch_campaign(campaign=campaign)
    (round_,) = Round.objects.filter(campaign=campaign)
    for link in leader_links(reissue_links(round_=round_))[:4]:  # 4 of 6: under k, so the count is hidden
        answer(link, answers_for(round_, Role.LEADER, 4))
    # The sender's record of a reminder that went to everyone waiting: counts only.
    ReminderBatch.objects.create(round=round_, number=1, status="done", sent=2)
    client = Client()
    client.force_login(hr)
    page = client.get(reverse("gensidig:campaign", args=["k", Campaign.objects.get().public_id])).content.decode()
    assert "4 af 6" not in page and "4 of 6" not in page  # the count itself is hidden
    assert "2 sendt" not in page and "2 sent" not in page, "the reminder count says that 4 of 6 answered"


# --- A middle manager, as a leader of their chief's team: the shared report's count --------------


def test_a_shared_report_shows_its_leaders_the_count_only_where_the_campaigns_pattern_does():
    units = {"u1": 6, "u2": 9, "u3": 4, "u4": 5, "u5": 4}
    campaign = run_campaign(units, answering={"u1": 5})
    for round_ in Round.objects.filter(campaign=campaign).select_related("summary"):
        Round.objects.filter(pk=round_.pk).update(shared_on=round_.closed_on)
        row = RollupParticipation.objects.get(campaign=campaign, team=round_.team)
        leader = round_.invitations.filter(role=Role.LEADER).select_related("person").first().person
        client = Client()
        client.force_login(ensure_login(person=leader))
        page = client.get(reverse("gensidig:team-report", args=[round_.public_id])).content.decode()
        count = f"{round_.summary.leader_responses} af {round_.leaders_invited}"
        if row.answered is None:
            assert count not in page, f"{round_.team.name}: the shared report says {count}"
            assert round_.summary.responses_shown is False
        else:
            assert count in page


# --- HR, watching the campaign page while the campaign runs -------------------------------------

# Found by a search over random campaigns: X's team (7 leaders, two of them chiefs) over U1's (7)
# and U2's (5). HR looks at the campaign page after every answer, in this order of teams. Counts
# only grow, so a count HR saw once is a floor later, when the pattern may hide the same cell; a
# later view that forgets this lets HR pin a hidden count.
WATCHED_ORDER = [0, 2, 1, 1, 2, 1, 1, 0, 1, 2, 0, 1, 0, 0, 0, 1, 2, 0]


def test_hr_watching_the_campaign_page_cannot_pin_a_count_with_what_it_saw_earlier(settings):
    from gensidig.services.results import participation

    # The worst case: counted afresh on every view, as if the page's window (a minute by default)
    # had passed after every answer.
    settings.GENSIDIG_LIVE_PARTICIPATION_SECONDS = 0

    rows = [("x@k.dk", "Chef X", "", "Område X")]
    rows += [(f"u{u}@k.dk", f"Chef U{u}", "x@k.dk", "Område X") for u in (1, 2)]
    rows += [(f"x{i}@k.dk", f"Leder X{i}", "x@k.dk", "Område X") for i in range(5)]
    rows += [(f"u1-{i}@k.dk", f"Leder U1-{i}", "u1@k.dk", "Enhed U1") for i in range(7)]
    rows += [(f"u2-{i}@k.dk", f"Leder U2-{i}", "u2@k.dk", "Enhed U2") for i in range(5)]
    data = "\n".join(["email;name;manager_email;unit"] + [";".join(row) for row in rows]).encode()
    organisation = apply_import(
        organisation_slug="k", organisation_name="K", chart=read_chart(data=data, filename="c.csv")
    ).organisation
    _org, hr = add_admin(email="hr@k.dk", organisation_slug="k")
    campaign = create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    launch_campaign(campaign=campaign)
    teams = [Team.objects.get(chief__email=email) for email in ("x@k.dk", "u1@k.dk", "u2@k.dk")]
    rounds = [Round.objects.get(campaign=campaign, team=team) for team in teams]
    waiting = [leader_links(reissue_links(round_=round_)) for round_ in rounds]
    members = {teams[0].pk: {t.pk for t in teams}, teams[1].pk: {teams[1].pk}, teams[2].pk: {teams[2].pk}}
    client = Client()
    client.force_login(hr)
    page = reverse("gensidig:campaign", args=["k", campaign.public_id])
    notes = []  # every count the page has shown HR, as a floor: counts only grow
    for step, index in enumerate(WATCHED_ORDER):
        answer(waiting[index].pop(), answers_for(rounds[index], Role.LEADER, 4))
        assert client.get(page).status_code == 200
        view = participation.live_participation(campaign=Campaign.objects.get(pk=campaign.pk))
        bounds = {team.pk: (0, row.invited) for team, _d, row in view.rows}
        facts, hidden = [], []
        for team, _d, row in view.rows:
            own, branch = frozenset([team.pk]), frozenset(members[team.pk])
            for cell, value, size in (
                (own, row.answered, row.invited),
                (branch, row.branch_answered, row.branch_invited),
            ):
                if value is None:
                    hidden.append((cell, size))
                else:
                    facts.append((cell, value, value))
                    notes.append((cell, value, math.inf))
        assert not over_narrowed(bounds, facts + notes, hidden, count_kept), step


# --- A chief of chiefs, across campaigns: a branch that lost one leader -----------------------


def test_a_chief_of_chiefs_cannot_subtract_two_campaigns_to_learn_the_answers_of_a_leader_who_left():
    from gensidig.models import ItemStatistic, Person, RollupStatistic

    units = {"u1": 6, "u2": 5}
    organisation = apply_import(
        organisation_slug="k", organisation_name="K", chart=read_chart(data=chart(units), filename="c.csv")
    ).organisation
    people = {}

    def value_of(person_id):
        rng = people.setdefault(person_id, {})

        def value(key, scale):
            return rng.setdefault((key, scale), random.Random(hash((person_id, key, scale))).randint(1, 5))

        return value

    campaigns = []
    for year in (1, 2):
        campaign = create_campaign(
            organisation=organisation,
            name=f"År {year}",
            root_team=None,
            opens_on=timezone.localdate(),
            closes_at=timezone.now() + datetime.timedelta(days=14),
        )
        launch_campaign(campaign=campaign)
        for round_ in Round.objects.filter(campaign=campaign):
            for link in leader_links(reissue_links(round_=round_)):
                answer(link, answers_for(round_, Role.LEADER, value_of(link.person.pk)))
        campaigns.append(close_campaign(campaign=campaign))
        if year == 1:  # one of U1's leaders leaves, as an import of the new chart would record it
            leaver = Person.objects.get(email="u1-0@k.dk")
            TeamMembership.objects.filter(person=leaver).delete()
            Person.objects.filter(pk=leaver.pk).update(active=False)

    def cells(campaign):
        """Every published figure of the campaign: (team, kind, item key, scale) -> the figure."""
        found = {}
        for row in ItemStatistic.objects.filter(round__campaign=campaign, role=Role.LEADER, withheld=False):
            found[(row.round.team_id, "own", row.item.key, row.scale)] = row
        for row in RollupStatistic.objects.filter(campaign=campaign, withheld=False):
            found[(row.team_id, "branch", row.item.key, row.scale)] = row
        return found

    then, now = cells(campaigns[0]), cells(campaigns[1])
    compared, learned = 0, []
    for key in then.keys() & now.keys():
        before, after = then[key], now[key]
        if before.n - after.n != 1:
            continue  # only the cells the leaver was in, with everyone else answering as before
        compared += 1
        lo_before, hi_before = figure_totals(
            n=before.n, mean=before.mean, precision=getattr(before, "precision", "tenth"),
            sd=getattr(before, "sd", None), distribution=getattr(before, "distribution", None),
        )  # fmt: skip
        lo_after, hi_after = figure_totals(
            n=after.n, mean=after.mean, precision=getattr(after, "precision", "tenth"),
            sd=getattr(after, "sd", None), distribution=getattr(after, "distribution", None),
        )  # fmt: skip
        low, high = max(1, lo_before - hi_after), min(5, hi_before - lo_after)
        assert low <= people[leaver.pk][(key[2], key[3])] <= high
        if high - low < 2:
            learned.append((key, low, high))
    assert compared, "the leaver's cells were compared"
    assert not learned, f"the leaver's answer narrowed to under two points in {len(learned)} cells"
