"""HR's page of the organisation's admins: who they are, add one by e-mail address, remove one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from gensidig.forms.people import AdminForm
from gensidig.models import AuditAction, OrganisationAdmin
from gensidig.services.organisation.admins import (
    AdminError,
    add_organisation_admin,
    organisation_admins,
    remove_organisation_admin,
)

from .auditing import record
from .scoping import get_organisation_for_admin

# Admin ids are database ids; anything longer than this is no id of ours (and must not reach the database).
ID_DIGITS = 18


@login_required
@require_http_methods(["GET", "POST"])
def admins(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    form = AdminForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            admin = add_organisation_admin(organisation=organisation, email=form.cleaned_data["email"])
        except AdminError as error:
            form.add_error("email", str(error))
        else:
            record(
                AuditAction.ADMIN_CHANGED,
                request=request,
                organisation=organisation,
                target=admin.user.email,
                detail={"change": "added"},
            )
            messages.success(
                request,
                _("%(email)s is now an admin. They sign in with a link sent to their address.")
                % {"email": admin.user.email},
            )
            return redirect("gensidig:org-admins", slug=slug)
    return _admins_page(request, organisation, form)


def _admins_page(request, organisation, form, *, refused: str = ""):
    context = {
        "organisation": organisation,
        "form": form,
        "admins": organisation_admins(organisation=organisation),
        "refused": refused,
    }
    status = 400 if form.errors or refused else 200
    return render(request, "gensidig/organisation/admins.html", context, status=status)


@login_required
@require_POST
def admin_remove(request, slug: str):
    organisation = get_organisation_for_admin(request, slug)
    raw = request.POST.get("admin", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > ID_DIGITS:  # "²" is a digit int() refuses
        raise Http404
    try:
        removed = remove_organisation_admin(organisation=organisation, admin_id=int(raw))
    except OrganisationAdmin.DoesNotExist:
        raise Http404 from None
    except AdminError as error:
        return _admins_page(request, organisation, AdminForm(), refused=str(error))
    record(
        AuditAction.ADMIN_CHANGED,
        request=request,
        organisation=organisation,
        target=removed.email,
        detail={"change": "removed"},
    )
    if removed == request.user:
        messages.success(
            request, _("You are no longer an admin of %(organisation)s.") % {"organisation": organisation.name}
        )
        return redirect("gensidig:home")
    messages.success(request, _("%(email)s is no longer an admin.") % {"email": removed.email})
    return redirect("gensidig:org-admins", slug=slug)
