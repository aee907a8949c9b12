"""Upgrading to sealed ballots (migration 0010) while rounds are open: nothing they gathered is lost.

A round opened before the upgrade has its answers so far in counters and comment rows. After the
upgrade they are sealed into one carried-over ballot of the round's new key, the counters and
comments of the open round are gone, its links still work, new answers arrive as ballots, and
closing counts both.
"""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from gensidig import framework as fw
from gensidig.models import Ballot, Comment, RatingCounter, RoundKey
from gensidig.models import Round as CurrentRound
from gensidig.models.choices import SCALES_BY_ROLE_AND_KIND, Role, Scale
from gensidig.services.survey.answering import usable_invitation
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.tokens import hash_token, new_token

from .counters import counts
from .factories import answer, answers_for

BEFORE = [("gensidig", "0009_dialogue")]
AFTER = [("gensidig", "0012_scrub_what_the_old_design_left")]
VALUE_FIELDS = ("count_0", "count_1", "count_2", "count_3", "count_4", "count_5")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def build_open_round_the_old_way(apps):
    """An open round as the code before sealed ballots left it: three leaders counted, two comments."""
    Organisation = apps.get_model("gensidig", "Organisation")
    Person = apps.get_model("gensidig", "Person")
    Team = apps.get_model("gensidig", "Team")
    TeamMembership = apps.get_model("gensidig", "TeamMembership")
    Instrument = apps.get_model("gensidig", "Instrument")
    Item = apps.get_model("gensidig", "Item")
    Round = apps.get_model("gensidig", "Round")
    Invitation = apps.get_model("gensidig", "Invitation")
    RatingCounterThen = apps.get_model("gensidig", "RatingCounter")
    CommentThen = apps.get_model("gensidig", "Comment")
    ReminderBatch = apps.get_model("gensidig", "ReminderBatch")

    organisation = Organisation.objects.create(slug="opgradering", name="Opgraderingskommune")
    chief = Person.objects.create(organisation=organisation, email="chef@op.dk", name="Chef")
    team = Team.objects.create(organisation=organisation, name="Ledelsen", slug="ledelsen", chief=chief)
    leaders = [
        Person.objects.create(organisation=organisation, email=f"leder{i}@op.dk", name=f"Leder {i}") for i in range(6)
    ]
    for person in leaders:
        TeamMembership.objects.create(team=team, person=person)
    content = fw.read_version(fw.CURRENT_VERSION)
    instrument = Instrument.objects.create(version=fw.CURRENT_VERSION, checksum=fw.checksum(content), content=content)
    shape = fw.structure(fw.parse(content[fw.LANGUAGES[0]]))
    items = {
        key: Item.objects.create(instrument=instrument, key=key, theme_key=theme, kind=kind, position=position)
        for position, (theme, key, kind) in enumerate(shape, start=1)
    }
    round_ = Round.objects.create(
        team=team,
        instrument=instrument,
        number=1,
        anonymity_threshold=5,
        closes_at=timezone.now() + datetime.timedelta(days=7),
        leaders_invited=6,
    )
    tokens = {}
    for person, role in [(chief, Role.CHIEF)] + [(p, Role.LEADER) for p in leaders]:
        token = new_token()
        Invitation.objects.create(
            round=round_, person=person, role=role, token_hash=token.token_hash, used=person in leaders[:3]
        )
        tokens[person.email] = token.token
    slot = 0
    for item in sorted(items.values(), key=lambda i: i.position):
        for (role, kind), scales in SCALES_BY_ROLE_AND_KIND.items():
            if kind != item.kind:
                continue
            for scale in scales:
                # Three leaders answered 4 to everything; the chief had not answered yet.
                values = dict.fromkeys(VALUE_FIELDS, 0)
                if role == Role.LEADER:
                    values["count_4"] = 3
                RatingCounterThen.objects.create(round=round_, item=item, role=role, scale=scale, slot=slot, **values)
                slot += 1
    CommentThen.objects.create(round=round_, theme_key="direction", text="Før opgraderingen")
    CommentThen.objects.create(round=round_, theme_key="sparring", text="Også før")
    ReminderBatch.objects.create(round=round_, number=1, waiting=[-1, 5, 6], sent=2, done=False)
    return round_.pk, tokens, leaders


@pytest.mark.django_db(transaction=True)
def test_an_open_round_keeps_what_it_gathered_across_the_upgrade_and_counts_it_at_close():
    try:
        old_apps = migrate(BEFORE)
        round_id, tokens, leaders = build_open_round_the_old_way(old_apps)
        migrate(AFTER)

        round_ = CurrentRound.objects.get(pk=round_id)
        # Sealed: no counter and no comment of the open round remain, one carried-over ballot does.
        assert not RatingCounter.objects.filter(round=round_).exists()
        assert not Comment.objects.filter(round=round_).exists()
        assert Ballot.objects.filter(round=round_).count() == 1 and RoundKey.objects.filter(round=round_).exists()
        # The links people have still work, and the reminder caught half-way is not sent again.
        assert usable_invitation(token_hash=hash_token(tokens[leaders[3].email])).person_id == leaders[3].pk
        assert usable_invitation(token_hash=hash_token(tokens[leaders[0].email])) is None  # answered before
        # (one column read: later migrations add columns this state of the schema does not have yet)
        assert round_.reminder_batches.values_list("interrupted", flat=True).get()

        # Two more leaders and the chief answer after the upgrade (and every later one); closing
        # counts everyone.
        migrate(executor_leaf())
        for person in leaders[3:5]:
            link = AnswerLink(person=None, role=Role.LEADER, token=tokens[person.email])
            answer(link, answers_for(round_, Role.LEADER, 2, comments={"teamwork": f"efter {person.name}"}))
        answer(AnswerLink(person=None, role=Role.CHIEF, token=tokens["chef@op.dk"]), answers_for(round_, Role.CHIEF, 3))
        close_round(round_=round_)

        assert counts(round_, Role.LEADER, "direction.core-task", Scale.IMPORTANCE) == {
            0: 0,
            1: 0,
            2: 2,
            3: 0,
            4: 3,
            5: 0,
        }
        assert counts(round_, Role.CHIEF, "direction.core-task", Scale.EXPERIENCE)[3] == 1
        assert sorted(Comment.objects.filter(round=round_).values_list("text", flat=True)) == sorted(
            ["Før opgraderingen", "Også før", "efter Leder 3", "efter Leder 4"]
        )
        assert round_.summary.leader_responses == 5 and round_.summary.chief_answered
    finally:
        migrate(executor_leaf())


def executor_leaf():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
