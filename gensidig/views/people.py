"""HR's pages for one person: add, edit (manager included), deactivate, reactivate; and the export
of the people list. Every change is a service call (services/organisation/people.py) that goes
through the org-chart import, so the teams follow.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from gensidig.forms.people import DeactivateForm, PersonForm, ReactivateForm, show_rejection
from gensidig.models import AuditAction, Organisation, Person, Team
from gensidig.services.organisation import people_export
from gensidig.services.organisation.chart_edits import ChangeRejected
from gensidig.services.organisation.people import (
    PersonDetails,
    add_person,
    deactivate_person,
    edit_person,
    manager_email_of,
    reactivate_person,
)

from .auditing import record_change
from .scoping import get_organisation_for_admin

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _person(organisation: Organisation, person_id: int) -> Person:
    person = Person.objects.filter(organisation=organisation, pk=person_id).select_related("manager").first()
    if person is None:
        raise Http404
    return person


def active_people(organisation: Organisation) -> list[tuple[str, str]]:
    """(address, name) of everyone in the chart, for the address fields' suggestions."""
    return list(
        Person.objects.filter(organisation=organisation, active=True)
        .order_by("name", "email")
        .values_list("email", "name")
    )


def _found(slug: str, person: Person) -> str:
    """The people list, searched for the person just changed, so HR sees the result."""
    return reverse("gensidig:org-people", args=[slug]) + "?" + urlencode({"q": person.email})


def page_with_people(request, template: str, context: dict, form) -> HttpResponse:
    """A form page whose address fields suggest the people in the chart; 400 when the form has errors."""
    context = {**context, "form": form, "people_list": active_people(context["organisation"])}
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def person_new(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    form = PersonForm(request.POST or None, initial={"language": organisation.language_for(None)})
    if request.method == "POST" and form.is_valid():
        try:
            person = add_person(organisation=organisation, details=form.details())
        except ChangeRejected as rejected:
            show_rejection(form, rejected)
        else:
            record_change(AuditAction.PERSON_CHANGED, request, organisation, person.email, "added")
            messages.success(request, _("%(person)s is added to the org chart.") % {"person": person})
            return redirect(_found(slug, person))
    return page_with_people(request, "gensidig/organisation/person_form.html", {"organisation": organisation}, form)


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request, slug: str, person_id: int):
    organisation = get_organisation_for_admin(request, slug)
    person = _person(organisation, person_id)
    initial = PersonDetails.of(person, manager_email=manager_email_of(person)).__dict__
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = edit_person(organisation=organisation, person=person, details=form.details())
        except ChangeRejected as rejected:
            show_rejection(form, rejected)
        else:
            record_change(
                AuditAction.PERSON_CHANGED, request, organisation, person.email, "edited", fields=form.changed_data
            )
            messages.success(request, _("The changes to %(person)s are saved.") % {"person": person})
            return redirect(_found(slug, person))
    context = {
        "organisation": organisation,
        "person": person,
        "leads": Team.objects.filter(chief=person, active=True).first(),
        "member_of": Team.objects.filter(memberships__person=person, active=True).first(),
        "reports": person.reports.filter(active=True).count(),
    }
    return page_with_people(request, "gensidig/organisation/person_form.html", context, form)


@login_required
@require_http_methods(["GET", "POST"])
def person_deactivate(request, slug: str, person_id: int):
    organisation = get_organisation_for_admin(request, slug)
    person = _person(organisation, person_id)
    form = DeactivateForm(request.POST or None, initial={"reports_to": manager_email_of(person)})
    if request.method == "POST" and form.is_valid():
        try:
            deactivate_person(organisation=organisation, person=person, reports_to=form.cleaned_data["reports_to"])
        except ChangeRejected as rejected:
            show_rejection(form, rejected)
        else:
            record_change(AuditAction.PERSON_CHANGED, request, organisation, person.email, "left")
            messages.success(
                request,
                _("%(person)s is no longer in the org chart and will not be invited. Their past rounds are kept.")
                % {"person": person},
            )
            return redirect(_found(slug, person))
    context = {
        "organisation": organisation,
        "person": person,
        "reports": list(person.reports.filter(active=True).order_by("name")),
    }
    return page_with_people(request, "gensidig/organisation/person_deactivate.html", context, form)


@login_required
@require_http_methods(["GET", "POST"])
def person_reactivate(request, slug: str, person_id: int):
    organisation = get_organisation_for_admin(request, slug)
    person = _person(organisation, person_id)
    form = ReactivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reactivate_person(
                organisation=organisation, person=person, manager_email=form.cleaned_data["manager_email"]
            )
        except ChangeRejected as rejected:
            show_rejection(form, rejected)
        else:
            record_change(AuditAction.PERSON_CHANGED, request, organisation, person.email, "reactivated")
            messages.success(request, _("%(person)s is back in the org chart.") % {"person": person})
            return redirect(_found(slug, person))
    return page_with_people(
        request, "gensidig/organisation/person_reactivate.html", {"organisation": organisation, "person": person}, form
    )


def _export(request, slug: str, *, extension: str) -> HttpResponse:
    organisation = get_organisation_for_admin(request, slug)
    include_inactive = request.GET.get("inactive") == "1"
    if extension == "csv":
        content = people_export.people_csv(organisation=organisation, include_inactive=include_inactive)
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    else:
        content = people_export.people_xlsx(organisation=organisation, include_inactive=include_inactive)
        response = HttpResponse(content, content_type=XLSX)
    filename = people_export.filename(organisation=organisation, extension=extension)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A list of named people must not stay in a shared PC's cache or a proxy.
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_GET
def people_csv(request, slug: str):
    return _export(request, slug, extension="csv")


@login_required
@require_GET
def people_xlsx(request, slug: str):
    return _export(request, slug, extension="xlsx")
