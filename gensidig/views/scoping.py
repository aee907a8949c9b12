"""The one place that decides which rounds a signed-in user may see.

Anything that is not theirs is a 404, the same as something that does not exist, so an
outsider learns nothing from trying ids.
"""

from django.http import Http404

from gensidig.models import Round

from .auditing import note_target


def teams_for_user(user):
    from gensidig.services.access import led_teams

    return led_teams(user)


def get_round_for_user(request, public_id: str) -> Round:
    from gensidig.services.access import led_round

    # services.access.led_teams's rule (the team's chief is one of the user's people, still in the
    # chart) in one lookup by the round's public id.
    round_ = led_round(request.user, public_id)
    if round_ is None:
        raise Http404
    return note_target(request, round_=round_)


def get_organisation_for_admin(request, slug: str):
    """The organisation if the user administers it; otherwise 404, as if it did not exist."""
    from gensidig.services.access import administered_organisations

    organisation = administered_organisations(request.user).filter(slug=slug).first()
    if organisation is None:
        raise Http404
    return organisation


def get_campaign_for_admin(request, slug: str, public_id: str):
    from gensidig.models import Campaign

    organisation = get_organisation_for_admin(request, slug)
    campaign = (
        Campaign.objects.filter(organisation=organisation, public_id=public_id)
        .select_related("root_team", "instrument", "organisation")
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def get_shared_round_for_leader(request, public_id: str) -> Round:
    """A round whose report its chief has shared, if the user was invited to it as a leader."""
    from gensidig.services.access import shared_round

    round_ = shared_round(request.user, public_id)
    if round_ is None:
        raise Http404
    return note_target(request, round_=round_)
