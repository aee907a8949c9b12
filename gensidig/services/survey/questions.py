"""The questions a role answers, and checking a set of answers against them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from gensidig import framework as fw
from gensidig.models import Instrument
from gensidig.models.choices import ANSWER_VALUES, SCALES_BY_ROLE_AND_KIND, ItemKind, Role
from gensidig.services.survey.instruments import framework_for

# Counted as browsers count a textarea's maxlength: in UTF-16 code units (an emoji is two).
MAX_COMMENT_LENGTH = 2000


class AnswersRejected(ValueError):
    """The answers do not fit the survey; nothing was stored."""


@dataclass(frozen=True)
class Answers:
    ratings: dict[tuple[str, str], int]  # (item key, scale) -> 0 for "don't know", or 1-5
    comments: dict[str, str]  # theme key -> text; only leaders comment


_questions: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}


def questions_for(*, instrument: Instrument, role: str) -> tuple[tuple[str, str], ...]:
    """Every (item key, scale) a person in this role answers, in survey order.

    Worked out once per process and instrument content (a submission and a close ask many times).
    """
    key = (instrument.checksum, role)
    if key not in _questions:
        framework = framework_for(instrument, fw.LANGUAGES[0])
        questions = []
        for theme in framework.themes:
            for kind, items in ((ItemKind.NEED, theme.needs), (ItemKind.EXPECTATION, theme.expectations)):
                for item in items:
                    questions += [(item.key, scale) for scale in SCALES_BY_ROLE_AND_KIND[(role, kind)]]
        _questions[key] = tuple(questions)
    return _questions[key]


def comment_length(text: str) -> int:
    """A comment's length as the form's limit counts it (UTF-16 code units, like browsers)."""
    return len(text.encode("utf-16-le")) // 2


def clean_comment(text: str) -> str:
    """Normalise a comment and drop control characters that have no place in prose."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()


_question_sets: dict[tuple[str, str], frozenset] = {}


def _question_set(instrument: Instrument, role: str) -> frozenset:
    key = (instrument.checksum, role)
    if key not in _question_sets:
        _question_sets[key] = frozenset(questions_for(instrument=instrument, role=role))
    return _question_sets[key]


def check_answers(*, instrument: Instrument, role: str, answers: Answers) -> Answers:
    """Refuse answers that do not fit the survey exactly; return them cleaned."""
    expected = _question_set(instrument, role)
    if answers.ratings.keys() != expected:
        given = set(answers.ratings)
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
            if comment_length(cleaned) > MAX_COMMENT_LENGTH:
                raise AnswersRejected("a comment is too long")
            if cleaned:
                comments[theme_key] = cleaned
    return Answers(ratings=dict(answers.ratings), comments=comments)
