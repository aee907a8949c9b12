from django.conf import settings


def site(request):
    return {"SITE_URL": settings.SITE_URL}


def roles(request):
    """The organisations the signed-in user administers, for the navigation (read only when shown)."""
    from django.utils.functional import SimpleLazyObject

    from gensidig.services.access import administered_organisations

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"admin_organisations": ()}
    return {"admin_organisations": SimpleLazyObject(lambda: list(administered_organisations(user).order_by("name")))}
