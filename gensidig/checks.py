"""Checks of our own for `gensidig check --deploy`, where Django's would miss what we do."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.module_loading import import_string


@register(Tags.security, deploy=True)
def csrf_protection(app_configs, **kwargs):
    """Stands in for Django's security.W003, which is silenced because it cannot see a subclass."""
    for path in settings.MIDDLEWARE:
        middleware = import_string(path)
        if isinstance(middleware, type) and issubclass(middleware, CsrfViewMiddleware):
            return []
    return [
        Error(
            "No CSRF protection: MIDDLEWARE holds neither Django's CsrfViewMiddleware nor a subclass of it.",
            id="gensidig.E001",
        )
    ]
