"""HR's first-run checklist is read from the data: people, the privacy contact, a campaign."""

import datetime

import pytest
from django.utils import timezone

from gensidig.models import Organisation, Person
from gensidig.services.campaigns import create_campaign
from gensidig.services.checklist import first_run_checklist

from ..factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def states(organisation: Organisation) -> dict[str, bool]:
    return {step.key: step.done for step in first_run_checklist(organisation).steps}


def test_a_new_organisation_has_all_three_steps_to_do():
    organisation = OrganisationFactory()
    checklist = first_run_checklist(organisation)
    assert [step.key for step in checklist.steps] == ["import", "settings", "campaign"]
    assert states(organisation) == {"import": False, "settings": False, "campaign": False}
    assert (checklist.done, checklist.remaining) == (False, 3)


def test_each_step_is_done_when_the_data_says_so():
    organisation = OrganisationFactory()
    PersonFactory(organisation=organisation)
    assert states(organisation) == {"import": True, "settings": False, "campaign": False}

    organisation.privacy_contact = "dpo@kommune.example"
    organisation.save()
    assert states(organisation) == {"import": True, "settings": True, "campaign": False}

    create_campaign(
        organisation=organisation,
        name="Forår",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    checklist = first_run_checklist(organisation)
    assert all(step.done for step in checklist.steps)
    assert (checklist.done, checklist.remaining) == (True, 0)


def test_people_who_have_all_left_the_chart_do_not_count_as_an_import():
    organisation = OrganisationFactory()
    person = PersonFactory(organisation=organisation)
    Person.objects.filter(pk=person.pk).update(active=False)
    assert states(organisation)["import"] is False


def test_a_privacy_contact_of_only_spaces_is_not_filled_in():
    organisation = OrganisationFactory(privacy_contact="   ")
    assert states(organisation)["settings"] is False


def test_another_organisations_data_does_not_tick_anything_off():
    mine, theirs = OrganisationFactory(), OrganisationFactory(privacy_contact="dpo@theirs.example")
    PersonFactory(organisation=theirs)
    create_campaign(
        organisation=theirs,
        name="Deres",
        root_team=None,
        opens_on=timezone.localdate(),
        closes_at=timezone.now() + datetime.timedelta(days=14),
    )
    assert states(mine) == {"import": False, "settings": False, "campaign": False}
