"""Querysets compiled once and run again with other values (gensidig/db/prepared.py).

The access check, the navigation, the signed-in user and a theme's comments go through these on
every page: they must answer exactly what the queryset itself answers, for every value, and refuse
a value Django would not pass through as a plain parameter.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gensidig.db.prepared import Prepared, PreparingFailed, insert_instances
from gensidig.models import AuditAction, AuditEvent, Organisation, Round

from .factories import closed_round, make_team

pytestmark = pytest.mark.django_db

ROUND_OF_CHIEF = Prepared(
    Round,
    lambda public_id, user_id: (
        Round.objects.select_related("team__organisation", "team__chief", "instrument")
        .defer("instrument__content")
        .filter(public_id=public_id, team__chief__user_id=user_id)
    ),
    public_id=str,
    user_id=int,
)


def test_model_rows_with_their_joins_match_the_queryset_for_each_value():
    rounds = [closed_round(make_team(leaders=5), answering=5) for _ in range(2)]
    for round_ in rounds:
        chief_user = round_.team.chief.user_id
        found = ROUND_OF_CHIEF.first(public_id=round_.public_id, user_id=chief_user)
        assert found == round_
        expected = Round.objects.get(pk=round_.pk)
        assert [getattr(found, f.attname) for f in Round._meta.concrete_fields] == [
            getattr(expected, f.attname) for f in Round._meta.concrete_fields
        ]
        assert type(found.closed_on) is type(expected.closed_on)  # the database's values converted alike
        with CaptureQueriesContext(connection) as captured:  # the joined rows came with it
            assert found.team.organisation.name == round_.team.organisation.name
            assert found.team.chief.user_id == chief_user
            assert found.instrument.pk == round_.instrument_id
        assert len(captured) == 0
    # Another's round, or a round that does not exist: nothing, as the queryset answers.
    other_user = rounds[1].team.chief.user_id
    assert ROUND_OF_CHIEF.first(public_id=rounds[0].public_id, user_id=other_user) is None
    assert ROUND_OF_CHIEF.first(public_id="nothere", user_id=other_user) is None


def test_tuples_match_values_list_and_follow_changes_at_once():
    pairs = Prepared(
        Organisation,
        lambda prefix_slug: Organisation.objects.filter(slug=prefix_slug).order_by("pk").values_list("slug", "name"),
        prefix_slug=str,
    )
    Organisation.objects.create(slug="a-kommune", name="A Kommune")
    assert pairs.rows(prefix_slug="a-kommune") == [("a-kommune", "A Kommune")]
    Organisation.objects.filter(slug="a-kommune").update(name="A Region")
    assert pairs.rows(prefix_slug="a-kommune") == [("a-kommune", "A Region")]  # nothing kept but the SQL
    assert pairs.rows(prefix_slug="b-kommune") == []


def test_one_statement_per_call_and_the_sql_compiled_once():
    round_ = closed_round(make_team(leaders=5), answering=5)
    user_id = round_.team.chief.user_id
    ROUND_OF_CHIEF.first(public_id=round_.public_id, user_id=user_id)
    with CaptureQueriesContext(connection) as captured:
        ROUND_OF_CHIEF.first(public_id=round_.public_id, user_id=user_id)
        ROUND_OF_CHIEF.first(public_id="nothere", user_id=user_id)
    first, second = (query["sql"] for query in captured)
    assert round_.public_id in first and "nothere" in second
    assert first.replace(round_.public_id, "X") == second.replace("nothere", "X")


def test_a_value_django_rewrites_is_refused_loudly():
    # A LIKE pattern is made from the value: it cannot be put in as a plain parameter.
    contains = Prepared(Organisation, lambda text: Organisation.objects.filter(name__icontains=text), text=str)
    with pytest.raises(PreparingFailed):
        contains.rows(text="Kommune")
    with pytest.raises(TypeError):
        ROUND_OF_CHIEF.rows(public_id="x")  # a value missing
    with pytest.raises(TypeError):
        ROUND_OF_CHIEF.rows(public_id="x", user_id="5")  # text where the id's number belongs


def test_insert_instances_writes_what_bulk_create_writes_and_sets_the_ids():
    organisation = Organisation.objects.create(slug="audit-kommune", name="Audit Kommune")
    at = timezone.now()
    fields = {
        "at": at,
        "organisation": organisation,
        "actor_email": "hr@example.org",
        "client_address": "192.0.2.7",
        "action": AuditAction.REPORT_VIEWED,
        "target": "Hold Øst (abc)",
        "detail": {"audience": "team", "nested": ["æ", 1]},
    }
    by_django = AuditEvent.objects.bulk_create([AuditEvent(**fields)])[0]
    ours = [AuditEvent(**fields), AuditEvent(**{**fields, "target": "Hold Vest (def)"})]
    with CaptureQueriesContext(connection) as captured:
        insert_instances(ours)
    assert sum("INSERT" in query["sql"].upper() for query in captured) == 2
    assert all(event.pk is not None and not event._state.adding for event in ours)
    columns = [field.attname for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    stored = {row["id"]: row for row in AuditEvent.objects.values("id", *columns)}
    expected = {name: value for name, value in stored[by_django.pk].items() if name != "id"}
    assert {name: value for name, value in stored[ours[0].pk].items() if name != "id"} == expected
    assert stored[ours[1].pk]["target"] == "Hold Vest (def)"
