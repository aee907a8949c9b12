"""Forms of HR's pages for people, teams and admins.

The forms only gather input; the rules (unique addresses in any letter case, managers in the chart,
no circles) are the services' (services/organisation/), whose messages are put on the fields here.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from gensidig.models.choices import Language
from gensidig.services.organisation.chart_edits import ChangeRejected
from gensidig.services.organisation.people import PersonDetails

PEOPLE_LIST_ID = "active-people"  # the <datalist> of active people's addresses the address fields suggest from
SEPARATORS = re.compile(r"[\s,;]+")


def address_input() -> forms.EmailInput:
    """An address field that suggests the organisation's people, not the browser's own history."""
    return forms.EmailInput(attrs={"list": PEOPLE_LIST_ID, "autocomplete": "off"})


def manager_field(*, label, help_text, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label, help_text=help_text, required=required, max_length=254, widget=address_input(), strip=True
    )


def show_rejection(form: forms.Form, rejected: ChangeRejected) -> None:
    """Put a service's messages on the fields they are about (the rest on the form as a whole)."""
    for key, messages in rejected.errors.items():
        for message in messages:
            form.add_error(key if key in form.fields else None, message)


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, error_messages={"required": _("Write the person's name.")})
    email = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Write the person's e-mail address.")},
    )
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    unit = forms.CharField(
        label=_("Unit"),
        max_length=200,
        required=False,
        help_text=_("A team is named after its chief's unit, unless HR has given it a name."),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=Language.choices, help_text=_("Invitations are written in this language.")
    )
    manager_email = manager_field(
        label=_("Manager's e-mail address"),
        help_text=_("The person they report to. Leave it empty at the top of the chart."),
    )

    def details(self) -> PersonDetails:
        data = self.cleaned_data
        return PersonDetails(
            email=data["email"],
            name=data["name"],
            title=data["title"],
            unit=data["unit"],
            language=data["language"],
            manager_email=data["manager_email"],
        )


class DeactivateForm(forms.Form):
    reports_to = manager_field(
        label=_("Who their reports will report to"),
        help_text=_("The e-mail address of their new manager. Their own manager is suggested."),
    )


class ReactivateForm(forms.Form):
    manager_email = manager_field(
        label=_("Manager's e-mail address"),
        help_text=_("The person they will report to. Leave it empty at the top of the chart."),
    )


class TeamForm(forms.Form):
    chief_email = manager_field(
        label=_("The chief's e-mail address"),
        help_text=_("Someone in the org chart who does not lead a team yet."),
        required=True,
    )
    leader_emails = forms.CharField(
        label=_("The leaders' e-mail addresses"),
        help_text=_("One per line. They will report to the chief, and leave the team they are in now."),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Choose at least one person to report to the chief.")},
    )
    name = forms.CharField(
        label=_("Team name"),
        max_length=200,
        required=False,
        help_text=_("Leave it empty to name the team after the chief's unit."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chief_email"].error_messages["required"] = _("Choose the team's chief.")

    def clean_leader_emails(self) -> list[str]:
        return [part for part in SEPARATORS.split(self.cleaned_data["leader_emails"]) if part]


class RenameTeamForm(forms.Form):
    name = forms.CharField(
        label=_("Team name"),
        max_length=200,
        help_text=_("The next import of the org chart keeps this name."),
        error_messages={"required": _("Give the team a name.")},
    )


class DissolveTeamForm(forms.Form):
    reports_to = manager_field(
        label=_("Who the leaders will report to"),
        help_text=_("The e-mail address of their new manager. The chief's own manager is suggested."),
    )


class AdminForm(forms.Form):
    email = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("They sign in with a link sent to this address."),
        error_messages={"required": _("Write the new admin's e-mail address.")},
    )
