"""Storing one person's answers so that nobody can ever tell which answers were theirs.

A submission is one transaction: it locks the round and the invitation, adds one to the
counters of the values given in a single UPDATE that touches every counter row of the round
(so no row's transaction id tells which ones this person changed, DESIGN.md 2.1), rewrites the
round's comments in random order, and marks the invitation used while rewriting every invitation
of the round alike. Anything that fails rolls it all back and leaves the link usable (rule 8).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from gensidig import framework as fw
from gensidig.models import Comment, Instrument, Invitation, RatingCounter, Round
from gensidig.models.choices import ANSWER_VALUES, SCALES_BY_ROLE_AND_KIND, ItemKind, Role
from gensidig.services.instruments import framework_for, items_by_key

MAX_COMMENT_LENGTH = 2000


class AnswersRejected(ValueError):
    """The answers do not fit the survey; nothing was stored."""


class InvitationUnusable(Exception):
    """The link is unknown, used, or its round no longer accepts answers."""


@dataclass(frozen=True)
class Answers:
    ratings: dict[tuple[str, str], int]  # (item key, scale) -> 0 for "don't know", or 1-5
    comments: dict[str, str]  # theme key -> text; only leaders comment


def questions_for(*, instrument: Instrument, role: str) -> list[tuple[str, str]]:
    """Every (item key, scale) a person in this role answers, in survey order."""
    framework = framework_for(instrument, fw.LANGUAGES[0])
    questions = []
    for theme in framework.themes:
        for kind, items in ((ItemKind.NEED, theme.needs), (ItemKind.EXPECTATION, theme.expectations)):
            for item in items:
                questions += [(item.key, scale) for scale in SCALES_BY_ROLE_AND_KIND[(role, kind)]]
    return questions


def clean_comment(text: str) -> str:
    """Normalise a comment and drop control characters that have no place in prose."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()


def check_answers(*, instrument: Instrument, role: str, answers: Answers) -> Answers:
    """Refuse answers that do not fit the survey exactly; return them cleaned."""
    expected = set(questions_for(instrument=instrument, role=role))
    given = set(answers.ratings)
    if given != expected:
        raise AnswersRejected(f"{len(expected - given)} questions unanswered, {len(given - expected)} unknown")
    if any(value not in ANSWER_VALUES for value in answers.ratings.values()):
        raise AnswersRejected("an answer is outside the scale")
    comments = {}
    if answers.comments:
        if role != Role.LEADER:
            raise AnswersRejected("only leaders write comments")
        theme_keys = {theme.key for theme in framework_for(instrument, fw.LANGUAGES[0]).themes}
        for theme_key, text in answers.comments.items():
            if theme_key not in theme_keys:
                raise AnswersRejected("a comment names an unknown theme")
            cleaned = clean_comment(text)
            if len(cleaned) > MAX_COMMENT_LENGTH:
                raise AnswersRejected("a comment is too long")
            if cleaned:
                comments[theme_key] = cleaned
    return Answers(ratings=dict(answers.ratings), comments=comments)


def usable_invitation(*, token_hash: str) -> Invitation | None:
    """The invitation behind a link if it can still be answered, else None (one answer for all cases)."""
    invitation = (
        Invitation.objects.select_related("round__team__organisation", "round__instrument", "person")
        .filter(token_hash=token_hash)
        .first()
    )
    if invitation is None or invitation.used or not invitation.round.accepts_answers():
        return None
    return invitation


def submit_answers(*, token_hash: str, answers: Answers) -> Invitation:
    """Store one person's answers and use up their link, all or nothing."""
    invitation = Invitation.objects.filter(token_hash=token_hash).only("pk", "round_id").first()
    if invitation is None:
        raise InvitationUnusable
    with transaction.atomic():
        # Lock the round first: every submission rewrites all of its counter rows, so
        # submissions to one round take turns, always in the same order (no deadlocks).
        round_ = Round.objects.select_for_update().select_related("instrument").get(pk=invitation.round_id)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.used or not round_.accepts_answers():
            raise InvitationUnusable
        cleaned = check_answers(instrument=round_.instrument, role=invitation.role, answers=answers)
        _count(round_, invitation.role, cleaned.ratings)
        _rewrite_comments(round_, cleaned.comments)
        _mark_used(round_, invitation)
    return invitation


def _count(round_: Round, role: str, ratings: dict[tuple[str, str], int]) -> int:
    items = items_by_key(round_.instrument)
    given = reduce(or_, (Q(item_id=items[key].pk, scale=scale, value=value) for (key, scale), value in ratings.items()))
    # Adding 0 to the other rows is the point: all rows of the round are written by this
    # transaction, so none stands out as one this person's answers changed.
    return RatingCounter.objects.filter(round_id=round_.pk).update(
        count=F("count") + Case(When(Q(role=role) & given, then=Value(1)), default=Value(0))
    )


def _mark_used(round_: Round, invitation: Invitation) -> None:
    # Every invitation of the round is rewritten too, so the used one does not stand out by
    # the transaction that last wrote it, and the order in which people answered is not kept.
    Invitation.objects.filter(round_id=round_.pk).update(
        used=Case(When(pk=invitation.pk, then=Value(True)), default=F("used"))
    )


def _rewrite_comments(round_: Round, new_comments: dict[str, str]) -> None:
    existing = list(Comment.objects.filter(round_id=round_.pk).values_list("id", "theme_key", "text"))
    if not existing and not new_comments:
        return
    rows = [Comment(id=id_, round_id=round_.pk, theme_key=theme, text=text) for id_, theme, text in existing]
    rows += [Comment(round_id=round_.pk, theme_key=theme, text=text) for theme, text in new_comments.items()]
    # Deleting and re-inserting every comment in the order of their random ids leaves no
    # trace of which came last: not in the row order, not in the transaction ids.
    rows.sort(key=lambda comment: comment.id)
    Comment.objects.filter(round_id=round_.pk).delete()
    Comment.objects.bulk_create(rows)
