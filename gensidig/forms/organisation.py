"""Forms of the organisation admin's pages."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gensidig.models import Organisation, Team
from gensidig.models.choices import Language

MAX_CHART_BYTES = 5 * 1024 * 1024


class ChartUploadForm(forms.Form):
    chart = forms.FileField(
        label=_("Org chart (CSV or Excel)"),
        help_text=_(
            "One row per person with the columns email, name, manager_email and unit (title and language "
            "are optional). Danish column names work too."
        ),
        error_messages={"required": _("Choose a file to upload.")},
    )

    def clean_chart(self):
        upload = self.cleaned_data["chart"]
        if upload.size > MAX_CHART_BYTES:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        if not upload.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, error_messages={"required": _("Give the campaign a name.")})
    branch = forms.ModelChoiceField(
        label=_("Who takes part"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("The whole organisation"),
        help_text=_("Or one branch: a team and every team below it."),
    )
    opens_on = forms.DateField(
        label=_("Opens on"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    closes_on = forms.DateField(
        label=_("Closes on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The survey closes at 23:59 that day."),
        error_messages={"required": _("Choose the closing date.")},
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Team.objects.filter(organisation=organisation, active=True).order_by("name")

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("opens_on"), cleaned.get("closes_on")
        if opens and closes and closes <= opens:
            self.add_error("closes_on", _("The closing date must be after the opening date."))
        if closes and closes <= timezone.localdate():
            self.add_error("closes_on", _("The closing date must be in the future."))
        return cleaned

    @property
    def closes_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.cleaned_data["closes_on"], datetime.time(23, 59)))


class SettingsForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=Language.choices, widget=forms.CheckboxSelectMultiple
    )
    reminder_days = forms.CharField(
        label=_("Reminders, in days before the round closes"),
        help_text=_("For example “7, 2”. Leave empty for no reminders."),
        required=False,
    )

    class Meta:
        model = Organisation
        fields = [
            "name",
            "anonymity_threshold",
            "languages",
            "reminder_days",
            "retention_months",
            "privacy_contact",
            "invitation_note",
        ]
        widgets = {"invitation_note": forms.Textarea(attrs={"rows": 3, "maxlength": 500})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["anonymity_threshold"].min_value = settings.GENSIDIG_MINIMUM_THRESHOLD
        self.fields["anonymity_threshold"].widget.attrs["min"] = settings.GENSIDIG_MINIMUM_THRESHOLD
        if self.instance and not self.is_bound:
            self.initial["reminder_days"] = ", ".join(str(d) for d in self.instance.reminder_days)

    def clean_anonymity_threshold(self):
        k = self.cleaned_data["anonymity_threshold"]
        if k < settings.GENSIDIG_MINIMUM_THRESHOLD:
            raise forms.ValidationError(
                _("The anonymity threshold can never be below %(minimum)d.")
                % {"minimum": settings.GENSIDIG_MINIMUM_THRESHOLD}
            )
        return k

    def clean_reminder_days(self):
        raw = self.cleaned_data["reminder_days"].replace(";", ",")
        try:
            days = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
        except ValueError:
            raise forms.ValidationError(_("Write whole numbers of days separated by commas, e.g. “7, 2”.")) from None
        if any(d < 1 or d > 60 for d in days):
            raise forms.ValidationError(_("Each reminder must be between 1 and 60 days before the round closes."))
        return days
