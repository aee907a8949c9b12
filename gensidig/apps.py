from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GensidigConfig(AppConfig):
    name = "gensidig"
    verbose_name = _("Gensidig")
    default_auto_field = "django.db.models.BigAutoField"
