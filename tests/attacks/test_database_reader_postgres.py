"""DESIGN.md 2.1, the database reader against PostgreSQL: the WAL, the system columns, the dead row versions.

The attacker is a DBA (a superuser, as the tests connect) or anyone with a WAL archive. They read
every WAL record written while a round was open (pg_walinspect) and the raw bytes of the WAL
segments, the system columns of the invitations, and every live and dead tuple of the tables
(pageinspect), to find who answered what, or who had not answered when a reminder went out.
Each test is one thing the attacker tries, and asserts that it fails; each also checks that the
same reading does find what it looks for where it is allowed to be, so a failure to find means
something.
"""

from __future__ import annotations

import datetime
import os
import re
import secrets
from dataclasses import dataclass

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from gensidig import framework as fw
from gensidig.forms.answer import comment_name, field_name
from gensidig.models import (
    AnswerToken,
    Ballot,
    Comment,
    Invitation,
    InvitationMail,
    RatingCounter,
    ReminderBatch,
    Round,
)
from gensidig.models.choices import Role
from gensidig.services.ballots import sealing
from gensidig.services.mail.outbox import queue_invitations, send_invitations
from gensidig.services.mail.reminders import send_reminders, start_due_reminders
from gensidig.services.survey.closing import close_round
from gensidig.services.survey.instruments import framework_for
from gensidig.services.survey.links import AnswerLink
from gensidig.services.survey.questions import questions_for

from .. import smtp
from ..factories import answer, answers_for, chief_link, leader_links, make_team, start_round

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="reads PostgreSQL's WAL, system columns and pages; runs in the PostgreSQL pass (DATABASE_URL, CI=true)",
    ),
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),  # every submission really commits and writes its WAL
]
smtp_server = smtp.smtp_server
MARKER_PREFIX = "GSATTACKMARK"  # no other test writes it
SEGMENT = 16 * 1024 * 1024
BLOCK_REF = re.compile(r"rel (\d+)/(\d+)/(\d+) fork (\w+) blk (\d+)")
OFFSET = re.compile(r"^off (\d+)")
ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")


@pytest.fixture(autouse=True)
def inspection():
    """pg_walinspect and pageinspect in the test database, as a DBA would install them."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
    except Exception as error:  # the contrib package is missing, or we are not superuser
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"pg_walinspect and pageinspect are needed: {error}")


# --- What the attacker reads ---------------------------------------------------------------------


def query(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def wal_position() -> str:
    """Where the WAL ends now (flushed, so pg_walinspect can read up to it)."""
    return query("SELECT pg_current_wal_flush_lsn()::text")[0][0]


def relation_files(*tables: str) -> dict[int, str]:
    """relfilenode -> name, for each table, its indexes, its TOAST table and the TOAST table's index."""
    rows = query(
        """
        WITH t AS (SELECT oid, reltoastrelid FROM pg_class WHERE oid = ANY(%s::regclass[]))
        SELECT c.relname, pg_relation_filenode(c.oid) FROM pg_class c
        WHERE c.oid IN (
            SELECT oid FROM t
            UNION SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0
            UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM t)
            UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT reltoastrelid FROM t)
        )
        """,
        [list(tables)],
    )
    files = {node: name for name, node in rows if node}
    assert {name for name in files.values()} >= set(tables)
    return files


@dataclass(frozen=True)
class Record:
    lsn: str
    xid: int
    resource_manager: str
    record_type: str
    description: str
    relations: frozenset[int]  # relfilenodes of this database the record writes to
    blocks: frozenset[tuple[int, int]]  # (relfilenode, block) of the main forks it writes to

    def tuple_at(self, relfilenode: int) -> tuple[int, int] | None:
        """The (block, offset) of the tuple a one-tuple record (such as LOCK) writes in a relation."""
        blocks = [block for node, block in self.blocks if node == relfilenode]
        offset = OFFSET.match(self.description)
        return (blocks[0], int(offset.group(1))) if len(blocks) == 1 and offset else None


def wal_records(start: str, end: str) -> list[Record]:
    """Every WAL record between two positions that touches this database (the WAL is the cluster's)."""
    database = query("SELECT oid FROM pg_database WHERE datname = current_database()")[0][0]
    records = []
    for lsn, xid, manager, kind, description, block_ref in query(
        "SELECT start_lsn::text, xid::text::bigint, resource_manager, record_type, coalesce(description, ''), "
        "coalesce(block_ref, '') FROM pg_get_wal_records_info(%s::pg_lsn, %s::pg_lsn)",
        [start, end],
    ):
        refs = [ref for ref in BLOCK_REF.findall(block_ref) if int(ref[1]) == database]
        nodes = frozenset(int(node) for _space, _db, node, _fork, _block in refs)
        blocks = frozenset((int(node), int(block)) for _space, _db, node, fork, block in refs if fork == "main")
        records.append(Record(lsn, xid, manager, kind, description, nodes, blocks))
    return records


def raw_wal(start: str, end: str) -> bytes:
    """The bytes of the WAL between two positions, as they lie in pg_wal (and in a WAL archive), page headers out."""
    assert int(query("SHOW wal_block_size")[0][0]) == WAL_PAGE
    segments = query(
        """
        SELECT DISTINCT w.file_name, w.file_offset, e.file_name, e.file_offset
        FROM pg_walfile_name_offset(%s::pg_lsn) w, pg_walfile_name_offset(%s::pg_lsn) e
        """,
        [start, end],
    )
    ((first, first_offset, last, last_offset),) = segments
    names = [
        name
        for (name,) in query(
            "SELECT DISTINCT pg_walfile_name(%s::pg_lsn + n * %s::numeric) AS name "
            "FROM generate_series(0, ceil((%s::pg_lsn - %s::pg_lsn) / %s::numeric)::int) n ORDER BY name",
            [start, SEGMENT, end, start, SEGMENT],
        )
        if first <= name <= last  # segment names sort in WAL order
    ]
    assert names[0] == first and names[-1] == last
    data = b""
    for name in names:
        segment = bytes(query("SELECT pg_read_binary_file('pg_wal/' || %s)", [name])[0][0])
        begin = first_offset if name == first else 0
        finish = last_offset if name == last else len(segment)
        data += without_page_headers(segment, begin, finish)
    return data


WAL_PAGE = 8192  # XLOG_BLCKSZ, checked against the server's wal_block_size below
XLP_LONG_HEADER = 0x0002


def without_page_headers(segment: bytes, begin: int, finish: int) -> bytes:
    """The bytes of segment[begin:finish] with every WAL page's header taken out.

    A record that does not fit on a page goes on after the next page's header (24 bytes, or 40
    on a segment's first page), so a value can be split by one; read as the server reads it, the
    stream is contiguous again and a search cannot miss a text that straddles a page.
    """
    kept = []
    for page in range(begin - begin % WAL_PAGE, finish, WAL_PAGE):
        info = int.from_bytes(segment[page + 2 : page + 4], "little")
        content_start = page + (40 if info & XLP_LONG_HEADER else 24)
        start, end = max(begin, content_start), min(finish, page + WAL_PAGE)
        if start < end:
            kept.append(segment[start:end])
    return b"".join(kept)


def page_tuples(table: str) -> list[dict]:
    """Every tuple of every page of a table, live or dead, with its system columns and attributes."""
    pages = query("SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int", [table])[0][0]
    tuples = []
    for page in range(pages):
        for lp, flags, xmin, xmax, infomask, attrs in query(
            "SELECT lp, lp_flags, t_xmin::text::bigint, t_xmax::text::bigint, t_infomask, t_attrs "
            "FROM heap_page_item_attrs(get_raw_page(%s, %s), %s::regclass)",
            [table, page, table],
        ):
            if attrs is not None:
                tuples.append(
                    {
                        "ctid": (page, lp),
                        "flags": flags,
                        "xmin": xmin,
                        "xmax": xmax,
                        "infomask": infomask,
                        "attrs": [None if a is None else bytes(a) for a in attrs],
                    }
                )
    return tuples


def table_attributes(table_name: str) -> list[tuple[str, bool]]:
    """(name, dropped) of every attribute a table's tuples have, dropped columns included, in order."""
    return query(
        "SELECT attname, attisdropped FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 ORDER BY attnum",
        [table_name],
    )


def found_in(data: bytes, needles: list[bytes]) -> list[bytes]:
    return [needle for needle in needles if needle in data]


def marker(leader: int, theme: int) -> str:
    return f"{MARKER_PREFIX}{leader}x{theme}{secrets.token_hex(6)} " + "ord " * (1 + 5 * leader + theme) + "æøå"


def plaintext_start(round_, role: str) -> bytes:
    """How every unsealed ballot of this role begins (tag, format, role, number of ratings)."""
    count = len(questions_for(instrument=round_.instrument, role=role))
    return sealing.MAGIC + bytes([sealing.FORMAT_ANSWERS, sealing.ROLE_CODES[role]]) + count.to_bytes(2, "big")


def table(model) -> str:
    return model._meta.db_table


# --- A round answered by everyone, one at a time -------------------------------------------------


@dataclass
class Answered:
    round_: Round
    opened_at: str  # WAL position when the round had opened
    answered_at: str  # WAL position after the last submission, before close
    markers: list[str]
    invitation_ids: list[int]


@pytest.fixture
def answered() -> Answered:
    team = make_team(leaders=6)
    round_, links = start_round(team)
    opened_at = wal_position()
    themes = [theme.key for theme in framework_for(round_.instrument, fw.LANGUAGES[0]).themes]
    markers = []
    for index, link in enumerate(leader_links(links)):
        comments = {themes[(index + j) % len(themes)]: marker(index, j) for j in range(2)}
        markers += comments.values()
        answer(link, answers_for(round_, Role.LEADER, 1 + index % 5, comments=comments))
    answer(chief_link(links), answers_for(round_, Role.CHIEF, 3))
    answered_at = wal_position()
    invitation_ids = list(Invitation.objects.filter(round=round_).values_list("pk", flat=True))
    return Answered(round_, opened_at, answered_at, markers, invitation_ids)


def test_no_wal_record_written_while_the_round_was_open_touches_a_counter_or_a_comment(answered):
    forbidden = relation_files(table(RatingCounter), table(Comment))
    records = wal_records(answered.opened_at, answered.answered_at)
    touching = [(r.lsn, r.record_type, forbidden[n]) for r in records for n in r.relations if n in forbidden]
    assert touching == []
    # The same reading sees each submission: one invitation updated and one ballot inserted, seven times.
    invitation = set(relation_files(table(Invitation)))
    ballot = {n for n, name in relation_files(table(Ballot)).items() if name == table(Ballot)}
    updates = [
        r for r in records if r.resource_manager == "Heap" and "UPDATE" in r.record_type and r.relations & invitation
    ]
    inserts = [
        r for r in records if r.resource_manager == "Heap" and "INSERT" in r.record_type and r.relations & ballot
    ]
    assert len(updates) == len(inserts) == len(answered.invitation_ids) == 7
    # ... and after close, the counters and comments of that one closing transaction.
    close_round(round_=answered.round_)
    closing = wal_records(answered.answered_at, wal_position())
    assert len({r.xid for r in closing if r.relations & set(forbidden)}) == 1


def test_no_comment_text_is_in_any_byte_of_the_wal_written_while_the_round_was_open(answered):
    data = raw_wal(answered.opened_at, answered.answered_at)
    assert len(data) > 7 * 20_000  # seven sealed ballots, at least
    needles = [m.split()[0].encode(encoding) for m in answered.markers for encoding in ENCODINGS]
    needles += [MARKER_PREFIX.encode(encoding) for encoding in ENCODINGS]
    needles += [plaintext_start(answered.round_, role) for role in (Role.LEADER, Role.CHIEF)]  # an unsealed ballot
    assert found_in(data, needles) == []
    # The same search finds them in the WAL of the close, which writes the comments.
    before_close = wal_position()
    close_round(round_=answered.round_)
    published = raw_wal(before_close, wal_position())
    assert found_in(published, [m.split()[0].encode() for m in answered.markers]) == [
        m.split()[0].encode() for m in answered.markers
    ]


def test_no_invitation_carries_a_lock_mark_in_xmax_after_ordinary_submissions(answered):
    invitation = table(Invitation)
    assert query(f"SELECT xmax::text FROM {invitation} WHERE round_id = %s", [answered.round_.pk]) == [("0",)] * 7
    # The old attack: rows a transaction locked (SELECT ... FOR UPDATE) and then rewrote itself.
    assert query(f"SELECT id FROM {invitation} WHERE xmax = xmin AND xmax <> '0'") == []
    # In the pages: every live version has no xmax and no lock bit; each used invitation left one dead version.
    lock_only = 0x0080  # HEAP_XMAX_LOCK_ONLY
    tuples = page_tuples(invitation)
    live = [t for t in tuples if t["xmax"] == 0]
    dead = [t for t in tuples if t["xmax"] != 0]
    assert len(live) == 7 and all(not t["infomask"] & lock_only for t in tuples)
    assert len(dead) == 7 and {t["xmax"] for t in dead} == {t["xmin"] for t in live}


def test_a_reminder_writes_one_new_link_per_invitation_and_keeps_no_trace_of_who_had_not_answered(smtp_server):
    team = make_team(leaders=6)
    round_, _links = start_round(team)
    queue_invitations(rounds=[round_])
    send_invitations()
    tokens = {m.to: m.token for m in smtp_server.received}
    smtp_server.clear()
    leaders = list(team.leaders.order_by("pk"))

    def answer_as(person, role=Role.LEADER):
        answer(AnswerLink(person=None, role=role, token=tokens[person.email]), answers_for(round_, role, 4))

    for person in leaders[:2]:
        answer_as(person)
    links_before = set(AnswerToken.objects.values_list("pk", flat=True))
    before = wal_position()
    (batch,) = start_due_reminders(now=round_.closes_at - datetime.timedelta(days=6))
    report = send_reminders()
    after = wal_position()
    assert report.sent == 5  # four leaders and the chief had not answered

    # The WAL of the reminder: the batch, one new link per invitation of the round, answered or not.
    invitation_ids = set(Invitation.objects.filter(round=round_).values_list("pk", flat=True))
    records = wal_records(before, after)
    token_heap = {n for n, name in relation_files(table(AnswerToken)).items() if name == table(AnswerToken)}
    token_inserts = [
        r for r in records if r.resource_manager == "Heap" and "INSERT" in r.record_type and r.relations & token_heap
    ]
    assert len(token_inserts) == len(invitation_ids) == 7 and len({r.xid for r in token_inserts}) == 1
    (links_xid,) = {r.xid for r in token_inserts}
    new_links = AnswerToken.objects.exclude(pk__in=links_before)
    assert sorted(new_links.values_list("invitation_id", flat=True)) == sorted(invitation_ids)
    # Nothing on the invitations or their e-mails but what the new links' foreign key takes: a KEY SHARE
    # lock (no new row version) on the current version of every invitation of the round, all alike.
    invitation_files = relation_files(table(Invitation), table(InvitationMail))
    (invitation_heap,) = {n for n, name in invitation_files.items() if name == table(Invitation)}
    touching = [r for r in records if r.relations & set(invitation_files)]
    assert {(r.resource_manager, r.record_type, r.xid) for r in touching} <= {("Heap", "LOCK", links_xid)}
    assert all("LOCK_ONLY KEYSHR_LOCK" in r.description for r in touching), [r.description for r in touching]
    pages = page_tuples(table(Invitation))  # before the later answers: every invitation's current version
    current = {t["ctid"] for t in pages if t["xmax"] in (0, links_xid)}
    assert len(current) == 7 and sorted(r.tuple_at(invitation_heap) for r in touching) == sorted(current)
    assert {t["xmax"] for t in pages if t["ctid"] in current} == {links_xid}  # answered or not, the same mark
    reminder_xids = {r.xid for r in records if r.xid}
    assert not [t for t in pages if t["xmin"] in reminder_xids]  # no version written by the reminder

    for person in leaders[2:4]:  # later answers, with the invitation's link
        answer_as(person)
    # The links' pages: the reminder's links were made by one transaction, for everyone alike.
    token_versions = [t for t in page_tuples(table(AnswerToken)) if t["xmin"] in reminder_xids]
    assert len(token_versions) == 7 and {t["xmin"] for t in token_versions} == {links_xid}

    # The reminder batch's pages: every version, live or dead, holds the batch's own columns and
    # nothing else; the columns dropped by the upgrade (the old list of who was still waiting) hold nothing.
    versions = page_tuples(table(ReminderBatch))
    assert len(versions) >= 3 and [t for t in versions if t["xmax"] == 0] != versions  # dead versions are there
    attributes = table_attributes(table(ReminderBatch))
    assert {name for name, dropped in attributes if not dropped} == {
        f.column for f in ReminderBatch._meta.concrete_fields
    }
    widths = {"id": 8, "round_id": 8, "number": 2, "sent": 4, "failed": 4, "interrupted": 1}
    for version in versions:
        values = version["attrs"]
        assert len(values) == len(attributes)
        assert [name for (name, dropped), value in zip(attributes, values, strict=True) if dropped and value] == []
        row = {name: value for (name, dropped), value in zip(attributes, values, strict=True) if not dropped}
        assert {name: len(row[name]) for name in widths} == widths
        assert int.from_bytes(row["id"], "little") == batch.pk
        assert int.from_bytes(row["round_id"], "little") == round_.pk
        assert row["status"][1:].decode() in {"pending", "sending", "done"}  # a short varlena: its status
        assert int.from_bytes(row["sent"], "little") <= len(invitation_ids)  # a count


def full_flow(client, round_, token: str, *, comment: str) -> None:
    """A leader answers through the pages: the link, the intro, each theme, send."""
    answer_url = reverse("gensidig:answer")
    assert client.get(f"/a/{token}/").status_code == 302
    assert client.get(answer_url).status_code == 200
    questions = questions_for(instrument=round_.instrument, role=Role.LEADER)
    data = {}
    response = client.post(answer_url, {"step": "0", "action": "next"})
    steps = len(framework_for(round_.instrument, fw.LANGUAGES[0]).themes)
    for number in range(1, steps + 1):
        theme_key = response.context["step"].theme.key
        for key, scale in questions:
            if key.startswith(theme_key + "."):
                data[field_name(key, scale)] = "4"
        data[comment_name(theme_key)] = comment if number == 1 else ""
        carried = dict(response.context["carried"])
        action = "send" if number == steps else "next"
        response = client.post(answer_url, {**carried, **data, "step": str(number), "action": action})
    assert response.status_code == 303
    assert response["Location"] == reverse("gensidig:answer-thanks")


def test_answering_through_the_pages_leaves_nothing_in_django_session(client):
    team = make_team(leaders=6)
    round_, links = start_round(team)
    sessions_before = set(Session.objects.values_list("session_key", "session_data", "expire_date"))
    before = wal_position()
    comment = marker(9, 9)
    full_flow(client, round_, leader_links(links)[0].token, comment=comment)
    after = wal_position()
    assert Invitation.objects.filter(round=round_, used=True).count() == 1
    assert set(Session.objects.values_list("session_key", "session_data", "expire_date")) == sessions_before
    sessions = relation_files(table(Session))
    assert [(r.lsn, r.record_type) for r in wal_records(before, after) if r.relations & set(sessions)] == []
    assert query(f"SELECT count(*) FROM {table(Session)}")[0][0] == len(sessions_before)
    assert found_in(raw_wal(before, after), [comment.split()[0].encode(e) for e in ENCODINGS]) == []


# --- An installation upgraded to sealed ballots --------------------------------------------------

BEFORE_SEALED_BALLOTS = [("gensidig", "0009_dialogue")]


def migrate_to(targets=None):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def jsonb_integers(datum: bytes) -> list[int] | None:
    """The integers of a jsonb array as PostgreSQL stores it on disk (what pageinspect hands back); None if not one."""
    try:
        return _jsonb_integers(datum)
    except (AssertionError, IndexError):
        return None


def _jsonb_integers(datum: bytes) -> list[int]:
    assert len(datum) > 4
    body = datum[1:] if datum[0] & 1 else datum[4:]  # a short (1-byte) or a 4-byte varlena header
    header = int.from_bytes(body[:4], "little")
    count, is_array = header & 0x0FFFFFFF, header & 0x40000000
    assert is_array, "not a jsonb array"
    entries = [int.from_bytes(body[4 + 4 * i : 8 + 4 * i], "little") for i in range(count)]
    start = position = 4 + 4 * count
    values = []
    for entry in entries:
        assert entry & 0x70000000 == 0x10000000, "only arrays of numbers"
        # Every 32nd entry gives where its element ends instead of its length (JENTRY_HAS_OFF).
        length = (entry & 0x0FFFFFFF) - (position - start) if entry & 0x80000000 else entry & 0x0FFFFFFF
        element = body[position : position + length]
        position += length
        element = element.lstrip(b"\x00")  # alignment padding; a numeric's header byte is never 0
        numeric = element[4:]  # after its 4-byte varlena header
        flags = int.from_bytes(numeric[:2], "little")
        assert flags & 0xC000 == 0x8000, "a short numeric"
        weight = (flags & 0x3F) - (64 if flags & 0x40 else 0)
        digits = [int.from_bytes(numeric[i : i + 2], "little") for i in range(2, len(numeric), 2)]
        value = sum(digit * 10000 ** (weight - i) for i, digit in enumerate(digits))
        values.append(-value if flags & 0x2000 else value)
    return values


def test_an_upgraded_installation_keeps_no_list_of_who_had_not_answered_in_its_reminder_batches():
    """The code before sealed ballots kept, in each reminder batch, the invitations still to be reminded.

    Migration 0010 drops that column. The attacker reads the batches' tuples after the upgrade and
    decodes whatever the dropped column still holds.
    """
    try:
        old = migrate_to(BEFORE_SEALED_BALLOTS)
        organisation = old.get_model("gensidig", "Organisation").objects.create(slug="opg", name="Opgradering")
        person = old.get_model("gensidig", "Person")
        chief = person.objects.create(organisation=organisation, email="chef@opg.example", name="Chef")
        team = old.get_model("gensidig", "Team").objects.create(
            organisation=organisation, name="Ledelsen", slug="ledelsen", chief=chief
        )
        instrument = old.get_model("gensidig", "Instrument").objects.create(version="0", checksum="opg", content={})
        round_ = old.get_model("gensidig", "Round").objects.create(
            team=team,
            instrument=instrument,
            number=1,
            anonymity_threshold=5,
            closes_at=timezone.now() + datetime.timedelta(days=7),
        )
        invitation = old.get_model("gensidig", "Invitation")
        ids = [
            invitation.objects.create(
                round=round_,
                person=person.objects.create(organisation=organisation, email=f"l{i}@opg.example", name=f"L{i}"),
                role=Role.LEADER,
                token_hash=f"{i:064x}",
                used=i < 2,
            ).pk
            for i in range(6)
        ]
        not_answered = ids[2:]
        batches = old.get_model("gensidig", "ReminderBatch")
        # A reminder interrupted half-way (one in flight, two still to go) and one not yet started.
        batches.objects.create(round=round_, number=1, waiting=[-not_answered[0], *not_answered[1:3]], sent=1)
        batches.objects.create(round=round_, number=2, waiting=not_answered)
        migrate_to()

        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        attributes = table_attributes(table(ReminderBatch))
        recovered = {}
        for version in page_tuples(table(ReminderBatch)):
            for (name, dropped), value in zip(attributes, version["attrs"], strict=True):
                if dropped and value is not None and jsonb_integers(value) is not None:
                    recovered.setdefault(name, []).append((version["ctid"], version["xmax"], jsonb_integers(value)))
        leaked = {
            (ctid, "live" if xmax == 0 else "dead", tuple(abs(i) for i in values))
            for found in recovered.values()
            for ctid, xmax, values in found
            if {abs(i) for i in values} & set(not_answered)
        }
        assert leaked == set(), (
            f"the dropped column still holds who had not answered, in {len(leaked)} tuples "
            f"(invitations not answered: {not_answered}): {sorted(leaked)}"
        )
    finally:
        migrate_to()
