from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GensidigConfig(AppConfig):
    name = "gensidig"
    verbose_name = _("Gensidig")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from gensidig import checks  # noqa: F401 - registers the deployment checks
        from gensidig.services import audit_trail

        user_logged_in.connect(audit_trail.on_signed_in, dispatch_uid="gensidig-audit-signed-in")
        user_logged_out.connect(audit_trail.on_signed_out, dispatch_uid="gensidig-audit-signed-out")
        user_login_failed.connect(audit_trail.on_sign_in_failed, dispatch_uid="gensidig-audit-sign-in-failed")
        user_locked_out.connect(audit_trail.on_locked_out, dispatch_uid="gensidig-audit-locked-out")
