"""HR's first-run checklist: the three things to do before the first leader is invited.

Each step is read from the data, so the list is right whoever did the work (the web pages, the
command line, another administrator) and never needs ticking off by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from gensidig.models import Campaign, Organisation, Person


@dataclass(frozen=True)
class ChecklistStep:
    key: str  # import, settings, campaign
    url_name: str  # the page where it is done, under the organisation's slug
    title: str
    text: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    steps: list[ChecklistStep]

    @property
    def done(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def remaining(self) -> int:
        return sum(not step.done for step in self.steps)


def first_run_checklist(organisation: Organisation) -> Checklist:
    """Import the org chart, check the settings, create the first campaign: which are done.

    Nothing records that the settings page was saved, and its defaults are usable as they are;
    the one setting only the organisation can supply is the privacy contact, which invitations
    and the answer pages show. So the settings count as checked once it is filled in, and the
    step says so.
    """
    return Checklist(
        steps=[
            ChecklistStep(
                key="import",
                url_name="org-import",
                title=_("Import the org chart"),
                text=_("Done when the chart has people in it. The management teams are made from it."),
                done=Person.objects.filter(organisation=organisation, active=True).exists(),
            ),
            ChecklistStep(
                key="settings",
                url_name="org-settings",
                title=_("Check the settings"),
                text=_(
                    "Done when the privacy contact is filled in: the address where leaders can ask about "
                    "their data. Look at the anonymity threshold, the languages and the reminders at the same time."
                ),
                done=bool(organisation.privacy_contact.strip()),
            ),
            ChecklistStep(
                key="campaign",
                url_name="campaign-new",
                title=_("Create the first campaign"),
                text=_("Done when there is a campaign, even a draft. It gives each management team its round."),
                done=Campaign.objects.filter(organisation=organisation).exists(),
            ),
        ]
    )
