"""Forms of a chief's own round: opening it, and moving its closing time."""

from __future__ import annotations

import datetime
import hashlib

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gensidig.models import Person, Round
from gensidig.services.survey.own_round import RoundPlan, plan_own_round
from gensidig.services.survey.rounds import RoundError

# The default length of a round: long enough for a leader back from two weeks' leave to answer.
DEFAULT_DAYS = 14
DEFAULT_TIME = "23:59"
# Far enough for any real round; a typo such as 2207 gets a message instead of a round nobody closes.
LATEST_DAYS = 366


class ClosingTimeFields(forms.Form):
    """A closing date and time, in the future and within a year."""

    closes_on = forms.DateField(
        label=_("Closes on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("Choose the closing date."), "invalid": _("Write the date as dd-mm-yyyy.")},
    )
    closes_time = forms.TimeField(
        label=_("Closing time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        initial=DEFAULT_TIME,
        help_text=_("The survey closes at this time that day."),
        error_messages={"required": _("Choose the closing time."), "invalid": _("Write the time as hh:mm.")},
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        closes_at = self.closes_at
        now = timezone.now()
        if closes_at <= now:
            self.add_error("closes_on", _("The closing time must be in the future."))
        elif closes_at > now + datetime.timedelta(days=LATEST_DAYS):
            self.add_error("closes_on", _("The closing date must be within a year."))
        return cleaned

    @property
    def closes_at(self) -> datetime.datetime:
        return timezone.make_aware(
            datetime.datetime.combine(self.cleaned_data["closes_on"], self.cleaned_data["closes_time"])
        )


class OwnRoundForm(ClosingTimeFields):
    """Who is invited to the team's next round, and when it closes.

    "Check" and "Send the invitations" post the same fields; the plan the chief checked travels
    as a fingerprint, so a change made after checking is shown again before anything is sent.
    """

    leave_out = forms.MultipleChoiceField(
        label=_("Leave out of this round"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The leaders below you in the org chart. Tick anyone who should not be asked this time."),
    )
    add = forms.CharField(
        label=_("Add leaders by e-mail"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One address a line, for this round only, e.g. a leader not yet in the org chart."),
    )
    checked = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["leave_out", "add", "closes_on", "closes_time"]

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.members = list(team.leaders.filter(active=True).order_by("name", "email"))
        self.fields["leave_out"].choices = [(str(p.pk), _label(p)) for p in self.members]
        default = timezone.localdate() + datetime.timedelta(days=DEFAULT_DAYS)
        self.fields["closes_on"].initial = default
        self.plan: RoundPlan | None = None

    def clean(self):
        cleaned = super().clean()
        if "leave_out" in cleaned and "add" in cleaned:
            out = {int(pk) for pk in cleaned["leave_out"]}
            try:
                self.plan = plan_own_round(
                    team=self.team,
                    add=cleaned["add"].splitlines(),
                    leave_out=[p.email for p in self.members if p.pk in out],
                )
            except RoundError as error:
                self.add_error("add", str(error))
        return cleaned

    def fingerprint(self) -> str:
        """What was checked: who is invited and when it closes, in a form that any change alters."""
        plan = self.plan
        parts = [
            self.closes_at.isoformat(),
            ",".join(str(p.pk) for p in plan.members),
            ",".join(plan.added),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]

    def was_checked(self) -> bool:
        return bool(self.cleaned_data.get("checked")) and self.cleaned_data["checked"] == self.fingerprint()

    def leave_out_addresses(self) -> list[str]:
        return [p.email for p in self.plan.left_out]


class ExtendForm(ClosingTimeFields):
    """A later closing time for an open round."""

    def __init__(self, *args, round_: Round, **kwargs):
        local = timezone.localtime(round_.closes_at)
        later = {"closes_on": local.date() + datetime.timedelta(days=7), "closes_time": local.strftime("%H:%M")}
        kwargs.setdefault("initial", later)
        super().__init__(*args, **kwargs)
        self.round = round_
        self.fields["closes_on"].label = _("New closing date")
        self.fields["closes_time"].help_text = ""

    def clean(self):
        cleaned = super().clean()
        if not self.errors and self.closes_at <= self.round.closes_at:
            self.add_error("closes_on", _("The new closing time must be later than the current one."))
        return cleaned


def _label(person: Person) -> str:
    return f"{person.name} ({person.email})" if person.name else person.email
