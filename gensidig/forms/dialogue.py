"""Forms for the meeting guide and the agreements."""

from django import forms
from django.utils.translation import gettext_lazy as _

from gensidig.models import AgreementOwner, AgreementStatus, GuideFormat


class GuideForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=GuideFormat.choices, widget=forms.RadioSelect)
    themes = forms.MultipleChoiceField(
        label=_("Themes to talk about"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to follow the report's focus themes. A meeting has room for two to four."),
    )

    def __init__(self, *args, themes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["themes"].choices = [(theme.key, theme.title) for theme in themes]


class AgreementForm(forms.Form):
    """An agreement about one theme; the items to point at are that theme's own."""

    theme = forms.ChoiceField(label=_("Theme"), widget=forms.HiddenInput)
    items = forms.MultipleChoiceField(
        label=_("Which of the theme's items it answers (optional)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(
        label=_("What we agree"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write what you agree.")},
    )
    owner = forms.ChoiceField(label=_("Who"), choices=AgreementOwner.choices, initial=AgreementOwner.TEAM)
    leader = forms.ChoiceField(
        label=_("The leader who agreed to it"),
        required=False,
        help_text=_("Only when one leader is responsible, and only with their consent."),
    )
    due_on = forms.DateField(label=_("By when"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, framework, leaders, theme_key, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [(theme.key, theme.title) for theme in framework.themes]
        self.fields["theme"].initial = theme_key
        theme = next((theme for theme in framework.themes if theme.key == theme_key), None)
        self.fields["items"].choices = [
            (item.key, item.title) for item in ((*theme.needs, *theme.expectations) if theme else ())
        ]
        self.fields["leader"].choices = [("", "–")] + [(str(p.pk), p.name or p.email) for p in leaders]


class AgreementStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=AgreementStatus.choices)


class AgreementEditForm(AgreementForm):
    """The recording form for an agreement already made: its theme stays, so it is not a field."""

    def __init__(self, *args, agreement, leaders, framework, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "items": agreement.item_keys,
                "text": agreement.text,
                "owner": agreement.owner,
                "leader": str(agreement.owner_person_id or ""),
                "due_on": agreement.due_on,
            },
        )
        super().__init__(*args, framework=framework, leaders=leaders, theme_key=agreement.theme_key, **kwargs)
        del self.fields["theme"]


class MeetingAgreementForm(AgreementForm):
    """Meeting mode's short form: the theme is chosen among the guide's themes, and no items.

    The room agrees while the themes are on the screen; pointing at single items can wait for the
    agreements page.
    """

    def __init__(self, *args, framework, leaders, guide_themes, **kwargs):
        first = guide_themes[0].key if guide_themes else ""
        super().__init__(*args, framework=framework, leaders=leaders, theme_key=first, **kwargs)
        self.fields["theme"].widget = forms.Select()
        self.fields["theme"].choices = [(theme.key, theme.title) for theme in guide_themes]
        del self.fields["items"]
