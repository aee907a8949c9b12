from django.conf import settings


def site(request):
    return {"SITE_URL": settings.SITE_URL}


def roles(request):
    """The organisations the signed-in user administers, for the navigation (read only when shown).

    Read as (slug, name) pairs straight from the admin rows, which the user's index finds: the
    navigation needs nothing else, and every signed-in page draws it, so no Organisation objects
    are built for it. Read afresh on each page, so a right taken away or a renamed organisation
    shows at once.
    """
    from django.utils.functional import SimpleLazyObject

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"admin_organisations": ()}
    return {"admin_organisations": SimpleLazyObject(lambda: _administered(user.pk))}


def _administered(user_id: int) -> list[dict]:
    from gensidig.services.access import administered_pairs

    return [{"slug": slug, "name": name} for slug, name in administered_pairs(user_id)]
