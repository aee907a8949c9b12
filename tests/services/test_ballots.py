"""Sealed ballots: the keys that seal them, closing that counts them, and what happens when it cannot.

DESIGN.md 2.1: a ballot opens only with its round's private key, which exists only wrapped by a
master key kept outside the database; closing counts every ballot in one transaction or none.
"""

import importlib
import io
import stat
import sys

import nacl.exceptions
import nacl.public
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gensidig.models import AnswerToken, Ballot, Comment, Invitation, RatingCounter, RoundKey
from gensidig.models.choices import Role, RoundStatus, Scale
from gensidig.services.ballots import keys, sealing
from gensidig.services.survey.closing import TallyError, close_round
from gensidig.services.survey.questions import MAX_COMMENT_LENGTH, Answers, AnswersRejected, questions_for
from gensidig.services.survey.rounds import RoundError

from ..counters import counts, total
from ..factories import answer, answers_for, chief_link, leader_links, make_team, start_round

pytestmark = pytest.mark.django_db

THEMES = ("direction", "autonomy", "sparring", "teamwork", "communication", "strengths")


@pytest.fixture
def answered(team):
    """An open round where five leaders and the chief have answered, with comments."""
    round_, links = start_round(team)
    for index, link in enumerate(leader_links(links)[:5]):
        answer(link, answers_for(round_, Role.LEADER, 1 + index, comments={"direction": f"kommentar {index}"}))
    answer(chief_link(links), answers_for(round_, Role.CHIEF, 3))
    return round_


def another_master_key():
    return override_settings(GENSIDIG_BALLOT_KEY=keys.generate_master_key().encoded())


def test_a_ballot_opens_with_its_rounds_private_key_and_nothing_the_database_holds(answered):
    round_key = RoundKey.objects.get(round=answered)
    sealed = bytes(Ballot.objects.filter(round=answered).values_list("sealed", flat=True)[0])
    # Whoever has the database has the public key, the wrapped private key and the ballots.
    for candidate in (bytes(round_key.public_key), bytes(round_key.wrapped_private_key)[-32:], sealed[:32]):
        with pytest.raises(nacl.exceptions.CryptoError):
            nacl.public.SealedBox(nacl.public.PrivateKey(candidate)).decrypt(sealed)
    with another_master_key(), pytest.raises(keys.BallotKeyError):
        keys.unwrap(round_key)
    # The master key, which never enters the database, opens it.
    opened = sealing.open_ballot(private_key=keys.unwrap(round_key), sealed=sealed, instrument=answered.instrument)
    assert len(opened.ratings) in {len(questions_for(instrument=answered.instrument, role=r)) for r in Role}


def test_closing_counts_every_ballot_then_deletes_ballots_links_and_the_key(answered):
    invited = Invitation.objects.filter(round=answered).count()
    assert AnswerToken.objects.filter(invitation__round=answered).count() == invited
    close_round(round_=answered)
    assert not Ballot.objects.filter(round=answered).exists()
    assert not RoundKey.objects.filter(round=answered).exists()
    assert not AnswerToken.objects.filter(invitation__round=answered).exists()
    assert counts(answered, Role.LEADER, "direction.core-task", Scale.IMPORTANCE) == {
        0: 0,
        1: 1,
        2: 1,
        3: 1,
        4: 1,
        5: 1,
    }
    assert counts(answered, Role.CHIEF, "direction.core-task", Scale.EXPERIENCE)[3] == 1
    assert sorted(Comment.objects.filter(round=answered).values_list("text", flat=True)) == [
        f"kommentar {i}" for i in range(5)
    ]
    assert answered.summary.leader_responses == 5 and answered.summary.chief_answered


def test_closing_with_another_master_key_stores_nothing_and_keeps_every_ballot(answered):
    with another_master_key(), pytest.raises(TallyError, match="master key"):
        close_round(round_=answered)
    answered.refresh_from_db()
    assert answered.status == RoundStatus.OPEN
    assert Ballot.objects.filter(round=answered).count() == 6
    assert not RatingCounter.objects.filter(round=answered).exists()
    # With the installation's key it closes, and nothing was lost.
    close_round(round_=answered)
    assert total(answered, role=Role.LEADER) == 5 * len(answers_for(answered, Role.LEADER).ratings)


def test_a_tampered_ballot_stops_the_close_with_a_clear_message_and_loses_nothing(answered):
    ballot = Ballot.objects.filter(round=answered).first()
    original = bytes(ballot.sealed)
    ballot.sealed = original[:-1] + bytes([original[-1] ^ 1])
    ballot.save()
    with pytest.raises(TallyError, match="cannot be counted"):
        close_round(round_=answered)
    answered.refresh_from_db()
    assert answered.status == RoundStatus.OPEN and Ballot.objects.filter(round=answered).count() == 6
    assert not RatingCounter.objects.filter(round=answered).exists() and not Comment.objects.exists()
    ballot.sealed = original
    ballot.save()
    close_round(round_=answered)
    assert answered.summary.leader_responses == 5


def test_a_ballot_from_another_round_does_not_count_here(team):
    first, first_links = start_round(team)
    second, _second_links = start_round(make_team(leaders=5))
    answer(leader_links(first_links)[0], answers_for(first, Role.LEADER, 2))
    Ballot.objects.filter(round=first).update(round=second)  # moved by someone with database access
    with pytest.raises(TallyError):
        close_round(round_=second)


def test_rewrapping_moves_every_round_key_to_the_new_master_key(answered, tmp_path):
    other_round, links = start_round(make_team(leaders=5))
    answer(leader_links(links)[0], answers_for(other_round, Role.LEADER, 5))
    new_key_file = tmp_path / "new.key"
    out = io.StringIO()
    call_command("ballot_key", "generate", "--file", str(new_key_file), stdout=out)
    assert stat.S_IMODE(new_key_file.stat().st_mode) == 0o600
    call_command("ballot_key", "rewrap", "--new-key-file", str(new_key_file), stdout=out)
    assert "Wrapped 2 round key(s)" in out.getvalue()

    # The old key no longer opens them; the new one does, and the rounds count as before.
    with pytest.raises(keys.BallotKeyError):
        keys.unwrap(RoundKey.objects.get(round=answered))
    with override_settings(GENSIDIG_BALLOT_KEY=new_key_file.read_text().strip()):
        call_command("ballot_key", "check", stdout=out)
        close_round(round_=answered)
        close_round(round_=other_round)
    assert answered.summary.leader_responses == 5 and other_round.summary.leader_responses == 1


def test_a_server_started_with_another_master_key_fails_loudly_naming_the_rounds(answered):
    with another_master_key():
        with pytest.raises(keys.BallotKeyError) as error:
            keys.check_ready_to_serve()
        assert answered.public_id in str(error.value) and "master key" in str(error.value)
        with pytest.raises(CommandError, match=answered.public_id):
            call_command("serve", "--no-collectstatic")
        with pytest.raises(CommandError):
            call_command("ballot_key", "check", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_any_wsgi_server_loading_the_application_with_another_master_key_fails_loudly():
    round_, links = start_round(make_team(leaders=5))
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER, 4))
    sys.modules.pop("gensidig.wsgi", None)  # loaded afresh, as a server process does
    with another_master_key(), pytest.raises(keys.BallotKeyError, match=round_.public_id):
        importlib.import_module("gensidig.wsgi")
    importlib.import_module("gensidig.wsgi")  # with the installation's key it loads


def test_without_a_master_key_and_none_to_be_made_no_round_opens(team, tmp_path):
    with (
        override_settings(
            GENSIDIG_BALLOT_KEY="", GENSIDIG_BALLOT_KEY_FILE=tmp_path / "missing.key", GENSIDIG_BALLOT_KEY_CREATE=False
        ),
        pytest.raises(RoundError, match="GENSIDIG_BALLOT_KEY"),
    ):
        start_round(team)
    assert not team.rounds.exists()


def test_on_first_start_a_self_contained_install_makes_its_key_file_readable_by_its_owner_only(tmp_path):
    key_file = tmp_path / "data" / "ballot.key"
    with override_settings(GENSIDIG_BALLOT_KEY="", GENSIDIG_BALLOT_KEY_FILE=key_file, GENSIDIG_BALLOT_KEY_CREATE=True):
        first = keys.master_key()
        keys.forget_master_key()
        assert keys.master_key() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.encoded() not in repr(first)


@pytest.mark.parametrize("bad", ["not base64 !!", "c2hvcnQ", ""])
def test_a_malformed_master_key_is_refused_with_a_clear_message(bad):
    with pytest.raises(keys.BallotKeyError, match="ballot master key"):
        keys.parse_master_key(bad or "AA", source="GENSIDIG_BALLOT_KEY")


def test_every_ballot_has_the_same_size_and_the_longest_comments_fit(team):
    round_, _ = start_round(team)
    instrument = round_.instrument
    size = sealing.ballot_size(instrument)
    longest = {
        "emoji": {t: "🙂" * (MAX_COMMENT_LENGTH // 2) for t in THEMES},  # two UTF-16 units each
        "quotes": {t: '"' * MAX_COMMENT_LENGTH for t in THEMES},
        "none": {},
    }
    for role in Role:
        for name, comments in longest.items():
            if role == Role.CHIEF and comments:
                continue
            plaintext = sealing.encode_answers(
                instrument=instrument, role=role, answers=answers_for(round_, role, 5, comments=comments)
            )
            assert len(plaintext) == size, name


def test_a_comment_over_the_limit_as_the_browser_counts_it_is_refused(team):
    round_, links = start_round(team)
    # 1001 emoji are 1001 characters to Python but 2002 to a browser's maxlength, and to us.
    with pytest.raises(AnswersRejected):
        answer(leader_links(links)[0], answers_for(round_, Role.LEADER, comments={"direction": "🙂" * 1001}))
    answer(leader_links(links)[0], answers_for(round_, Role.LEADER, comments={"direction": "🙂" * 1000}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(st.sampled_from([0, 1, 2, 3, 4, 5]), min_size=66, max_size=66),
    comments=st.dictionaries(
        st.sampled_from(THEMES), st.text(min_size=1, max_size=MAX_COMMENT_LENGTH // 2).map(str.strip).filter(bool)
    ),
)
def test_what_is_sealed_is_exactly_what_opens(team, values, comments):
    from gensidig.services.survey.instruments import current_instrument

    instrument = current_instrument()
    questions = questions_for(instrument=instrument, role=Role.LEADER)
    answers = Answers(ratings=dict(zip(questions, values, strict=True)), comments=comments)
    private = nacl.public.PrivateKey.generate()
    plaintext = sealing.encode_answers(instrument=instrument, role=Role.LEADER, answers=answers)
    opened = sealing.open_ballot(
        private_key=private, sealed=sealing.seal(bytes(private.public_key), plaintext), instrument=instrument
    )
    assert opened.ratings == [
        ((Role.LEADER, key, scale), value) for (key, scale), value in zip(questions, values, strict=True)
    ]
    assert dict(opened.comments) == comments
