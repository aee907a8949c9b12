"""The answer form: one page per theme, without JavaScript, and nothing kept on the server.

Answers to earlier themes travel with the form as hidden fields until the last page is
sent; only then are they stored (rule 9: no drafts on the server).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django import forms
from django.core import validators
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gensidig import framework as fw
from gensidig.models.choices import DONT_KNOW, SCALE_VALUES, ItemKind, Role, Scale
from gensidig.services.survey.questions import MAX_COMMENT_LENGTH, Answers, comment_length, questions_for

# The question each scale asks, by role and kind of item, and the words at its two ends.
QUESTION_WORDING = {
    (Role.LEADER, ItemKind.NEED, Scale.IMPORTANCE): _("How important is this to you?"),
    (Role.LEADER, ItemKind.NEED, Scale.EXPERIENCE): _("How much do you experience it today?"),
    (Role.LEADER, ItemKind.EXPECTATION, Scale.FULFILMENT): _("How well do you live up to it today?"),
    (Role.CHIEF, ItemKind.NEED, Scale.EXPERIENCE): _("How much do you do this today?"),
    (Role.CHIEF, ItemKind.EXPECTATION, Scale.IMPORTANCE): _("How important is this to you?"),
    (Role.CHIEF, ItemKind.EXPECTATION, Scale.FULFILMENT): _("How well do your leaders live up to it today?"),
}
SCALE_ENDS = {
    Scale.IMPORTANCE: (_("Not important"), _("Very important")),
    Scale.EXPERIENCE: (_("Not at all"), _("To a very high degree")),
    Scale.FULFILMENT: (_("Not at all"), _("Fully")),
}
# Translators: an answer option for someone who cannot judge a question.
DONT_KNOW_LABEL = pgettext_lazy("answer option", "Don't know")
# What each scale asks, in a word or two, for the error summary's links, which name the statement
# and the scale: "Translates political decisions – importance: Choose an answer ...".
SCALE_NAMES = {
    # Translators: in the answer form's list of errors, after a statement's title: "<title> – importance".
    (Role.LEADER, ItemKind.NEED, Scale.IMPORTANCE): pgettext_lazy("error summary", "importance"),
    # Translators: in the answer form's list of errors, after a statement's title: "<title> – experience".
    (Role.LEADER, ItemKind.NEED, Scale.EXPERIENCE): pgettext_lazy("error summary", "experience"),
    # Translators: in the answer form's list of errors, after one of the chief's expectations.
    (Role.LEADER, ItemKind.EXPECTATION, Scale.FULFILMENT): pgettext_lazy("error summary", "how well you live up to it"),
    # Translators: in the chief's answer form's list of errors, after a statement's title.
    (Role.CHIEF, ItemKind.NEED, Scale.EXPERIENCE): pgettext_lazy("error summary", "how much you do it"),
    # Translators: in the chief's answer form's list of errors, after a statement's title: "<title> – importance".
    (Role.CHIEF, ItemKind.EXPECTATION, Scale.IMPORTANCE): pgettext_lazy("error summary", "importance"),
    # Translators: in the chief's answer form's list of errors, after one of the chief's expectations.
    (Role.CHIEF, ItemKind.EXPECTATION, Scale.FULFILMENT): pgettext_lazy(
        "error summary", "how well your leaders live up to it"
    ),
}


class CommentLengthValidator(validators.MaxLengthValidator):
    """The comment limit, counted as the browser counts `maxlength` (UTF-16 code units)."""

    message = _("Keep the comment to at most %(limit_value)d characters (it has %(show_value)d).")

    def clean(self, x):
        return comment_length(x)


VALID_ANSWERS = frozenset(str(value) for value in (DONT_KNOW, *SCALE_VALUES))


def field_name(item_key: str, scale: str) -> str:
    return f"q-{item_key}-{scale}"


def comment_name(theme_key: str) -> str:
    return f"comment-{theme_key}"


def scale_choices(scale: str) -> list[tuple[str, str]]:
    low, high = SCALE_ENDS[scale]
    labels = {1: f"1 – {low}", 5: f"5 – {high}"}
    return [(str(v), labels.get(v, str(v))) for v in SCALE_VALUES] + [(str(DONT_KNOW), DONT_KNOW_LABEL)]


def complete_answers(data, *, questions: Sequence[tuple[str, str]], theme_keys: list[str], role: str) -> Answers | None:
    """The answers sent with the last page, when every one is valid; otherwise None.

    The quick path for the common case: a complete, valid form is read without building the
    form's 70-odd fields. It accepts exactly what AnswerForm accepts; when anything is missing
    or wrong, the view builds AnswerForm to say what, next to the field.
    """
    ratings = {}
    # A QueryDict is a dict of lists: read each field's last value from it directly, as
    # QueryDict.get would, without a method call per field.
    get = dict.get if isinstance(data, MultiValueDict) else None
    for name, question in _named(questions):
        if get is None:
            raw = data.get(name)
        else:
            values = get(data, name)
            raw = values[-1] if values else None
        if raw not in VALID_ANSWERS:
            return None
        ratings[question] = int(raw)
    comments = {}
    if role == Role.LEADER:
        for theme_key in theme_keys:
            text = data.get(comment_name(theme_key), "").strip()
            if comment_length(text) > MAX_COMMENT_LENGTH or "\x00" in text:
                return None
            if text:
                comments[theme_key] = text
    return Answers(ratings=ratings, comments=comments)


_names: dict[tuple, tuple[tuple[str, tuple[str, str]], ...]] = {}


def _named(questions: Sequence[tuple[str, str]]) -> tuple[tuple[str, tuple[str, str]], ...]:
    """Each question with its field's name, worked out once per set of questions (they are few)."""
    questions = tuple(questions)
    if questions not in _names:
        _names[questions] = tuple((field_name(key, scale), (key, scale)) for key, scale in questions)
    return _names[questions]


@dataclass(frozen=True)
class Choice:
    """One answer option: its value, the short text always shown ("1"), and the words of a
    scale's end ("Not at all"), which narrow screens show once above the row instead."""

    value: str
    text: str
    end: str = ""


def display_choices(scale: str) -> list[Choice]:
    low, high = SCALE_ENDS[scale]
    ends = {1: str(low), 5: str(high)}
    return [Choice(str(v), str(v), ends.get(v, "")) for v in SCALE_VALUES] + [
        Choice(str(DONT_KNOW), str(DONT_KNOW_LABEL))
    ]


@dataclass
class FieldView:
    """What the template needs to draw one field: its value as sent and the errors to show now.

    `summary` names the field in the error summary, where the question's own label ("How
    important is this to you?") is the same for every statement: the statement's title and the
    scale ("Translates political decisions – importance"), or the comment's label.
    """

    name: str
    label: str
    choices: list[Choice]
    value: str
    errors: list[str]
    ends: tuple[str, str] = ("", "")
    summary: str = ""

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass
class Question:
    """One statement and the one or two scales it is rated on."""

    item_key: str
    statement: str
    fields: list[FieldView]


@dataclass
class Step:
    number: int
    theme: fw.Theme
    needs: list[Question]
    expectations: list[Question]
    comment: FieldView | None

    @property
    def fields(self) -> list[FieldView]:
        fields = [f for q in (*self.needs, *self.expectations) for f in q.fields]
        return [*fields, self.comment] if self.comment else fields

    @property
    def field_names(self) -> set[str]:
        return {f.name for f in self.fields}


class AnswerForm(forms.Form):
    """All questions for one role, with helpers to validate and show one theme at a time."""

    def __init__(self, *args, framework: fw.Framework, role: str, instrument, **kwargs):
        super().__init__(*args, **kwargs)
        self.framework = framework
        self.role = role
        self.questions = questions_for(instrument=instrument, role=role)
        kinds = {item.key: ItemKind.NEED for item in framework.needs} | {
            item.key: ItemKind.EXPECTATION for item in framework.expectations
        }
        for item_key, scale in self.questions:
            self.fields[field_name(item_key, scale)] = forms.ChoiceField(
                label=QUESTION_WORDING[(role, kinds[item_key], scale)],
                choices=scale_choices(scale),
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose an answer, or “Don't know”."),
                    "invalid_choice": _("Choose one of the answers shown."),
                },
            )
        if role == Role.LEADER:
            for theme in framework.themes:
                self.fields[comment_name(theme.key)] = forms.CharField(
                    label=_("Comment on “%(theme)s” (optional)") % {"theme": theme.title},
                    required=False,
                    validators=[CommentLengthValidator(MAX_COMMENT_LENGTH)],
                    strip=True,
                    widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_COMMENT_LENGTH}),
                )

    def steps(self, *, show_errors_for: int | None = None) -> list[Step]:
        """The six theme pages, with errors filled in only for the page named."""
        steps = []
        for number, theme in enumerate(self.framework.themes, start=1):
            errors = self.errors if number == show_errors_for else {}

            def view(name: str, scale: str | None = None, summary: str = "") -> FieldView:
                field = self.fields[name]
                return FieldView(
                    name=name,
                    label=str(field.label),
                    choices=display_choices(scale) if scale else [],
                    value=self.sent_value(name),
                    errors=[str(e) for e in errors.get(name, [])],  # noqa: B023 - used at once
                    ends=tuple(str(end) for end in SCALE_ENDS[scale]) if scale else ("", ""),
                    summary=summary or str(field.label),
                )

            def question(item, kind: str) -> Question:
                statement = item.leader_text if self.role == Role.LEADER else item.chief_text
                return Question(
                    item_key=item.key,
                    statement=statement,
                    fields=[
                        view(field_name(key, scale), scale, f"{item.title} – {SCALE_NAMES[(self.role, kind, scale)]}")
                        for key, scale in self.questions
                        if key == item.key
                    ],
                )

            steps.append(
                Step(
                    number=number,
                    theme=theme,
                    needs=[question(n, ItemKind.NEED) for n in theme.needs],
                    expectations=[question(e, ItemKind.EXPECTATION) for e in theme.expectations],
                    comment=view(comment_name(theme.key)) if self.role == Role.LEADER else None,
                )
            )
        return steps

    def sent_value(self, name: str) -> str:
        """The value sent for a field, if it is one the field accepts; used to redraw and carry answers."""
        if not self.is_bound:
            return ""
        raw = self.data.get(name, "")
        field = self.fields[name]
        if isinstance(field, forms.ChoiceField):
            return raw if raw in {str(v) for v, _label in field.choices} else ""
        # Cut to the limit: what is echoed back is then bounded, so the padded page size holds.
        return raw[:MAX_COMMENT_LENGTH]

    def step_is_valid(self, step: Step) -> bool:
        return not (step.field_names & set(self.errors))

    def first_step_with_errors(self) -> int | None:
        for step in self.steps():
            if not self.step_is_valid(step):
                return step.number
        return None

    def carried(self, *, except_step: Step | None) -> list[tuple[str, str]]:
        """Answers from other pages, to send along as hidden fields."""
        skip = except_step.field_names if except_step else set()
        return [(name, self.sent_value(name)) for name in self.fields if name not in skip and self.sent_value(name)]

    def answers(self) -> Answers:
        """The validated answers, in the shape the answering service stores."""
        ratings = {(key, scale): int(self.cleaned_data[field_name(key, scale)]) for key, scale in self.questions}
        comments = {}
        if self.role == Role.LEADER:
            comments = {
                theme.key: self.cleaned_data[comment_name(theme.key)]
                for theme in self.framework.themes
                if self.cleaned_data.get(comment_name(theme.key))
            }
        return Answers(ratings=ratings, comments=comments)


def worst_case_data(*, framework: fw.Framework, instrument, role: str, step: int, rating: str) -> dict[str, str]:
    """Form data that makes a step's page as large as any can be.

    Every comment is over its limit in the character that escapes longest in HTML (`"` becomes
    `&quot;`) and holds a null character, so this step's comment shows both of its errors; every
    rating of other steps is carried along, and every rating of this step is `rating`: "" (missing)
    or an invalid value, each with its own error message.
    """
    in_step = {item.key for item in (*framework.themes[step - 1].needs, *framework.themes[step - 1].expectations)}
    data = {"step": str(step)}
    for key, scale in questions_for(instrument=instrument, role=role):
        value = rating if key in in_step else "0"
        if value:
            data[field_name(key, scale)] = value
    if role == Role.LEADER:
        for theme in framework.themes:
            data[comment_name(theme.key)] = '"' * (MAX_COMMENT_LENGTH + 1) + "\x00"
    return data
