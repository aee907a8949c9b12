"""HR's answer to one person's request for their data, and erasure (GDPR; services/personal_data.py)."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gensidig.models import AuditAction, Person
from gensidig.services import audit_trail
from gensidig.services.personal_data import ErasureRefused, erase_person, personal_data

from .scoping import get_organisation_for_admin


def _person(request, slug: str, person_id: int) -> Person:
    organisation = get_organisation_for_admin(request, slug)
    person = Person.objects.filter(organisation=organisation, pk=person_id, erased=False).first()
    if person is None:
        raise Http404
    return person


@login_required
def person_data(request, slug: str, person_id: int):
    person = _person(request, slug, person_id)
    audit_trail.record(
        AuditAction.PERSONAL_DATA_EXPORTED, request=request, organisation=person.organisation, target=person.email
    )
    return render(
        request,
        "gensidig/organisation/person_data.html",
        {"organisation": person.organisation, "person": person, "data": personal_data(person)},
    )


@login_required
def person_data_json(request, slug: str, person_id: int):
    person = _person(request, slug, person_id)
    audit_trail.record(
        AuditAction.PERSONAL_DATA_EXPORTED, request=request, organisation=person.organisation, target=person.email
    )
    body = json.dumps(personal_data(person), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="personal-data-{person.pk}.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def person_erase(request, slug: str, person_id: int):
    person = _person(request, slug, person_id)
    if request.method == "POST":
        try:
            erase_person(person=person, by=request.user, request=request)
        except ErasureRefused as error:
            messages.error(request, str(error))
            return redirect("gensidig:org-person-erase", slug=slug, person_id=person.pk)
        messages.success(request, _("The person is erased. Results they were counted in are unchanged."))
        return redirect("gensidig:org-people", slug=slug)
    return render(
        request, "gensidig/organisation/person_erase.html", {"organisation": person.organisation, "person": person}
    )
