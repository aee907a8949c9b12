"""The audit trail: what staff did, when, for accountability (DESIGN.md 2; docs/data-protection.md).

Append-only: the database itself refuses to change a row, and to delete one younger than the
shortest retention allowed (migration 0020's triggers), so the application's own database user
cannot rewrite history. Nothing a respondent does is recorded, and no token or token hash is.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .organisation import Organisation

# Rows younger than this can never be deleted (the triggers say so too): the trail's retention
# (GENSIDIG_AUDIT_RETENTION_DAYS) cannot be set below it.
MINIMUM_RETENTION_DAYS = 30


class AuditAction(models.TextChoices):
    SIGNED_IN = "signed_in", pgettext_lazy("audit", "Signed in")
    SIGN_IN_FAILED = "sign_in_failed", pgettext_lazy("audit", "Sign-in failed")
    SIGN_IN_LOCKED = "sign_in_locked", pgettext_lazy("audit", "Sign-in paused after too many attempts")
    SIGNED_OUT = "signed_out", pgettext_lazy("audit", "Signed out")
    REPORT_VIEWED = "report_viewed", pgettext_lazy("audit", "Report viewed")
    GUIDE_VIEWED = "guide_viewed", pgettext_lazy("audit", "Meeting guide viewed")
    EXPORTED = "exported", pgettext_lazy("audit", "Exported")
    ROLLUP_VIEWED = "rollup_viewed", pgettext_lazy("audit", "Roll-up viewed")
    CHART_IMPORTED = "chart_imported", pgettext_lazy("audit", "Org chart imported")
    PERSON_CHANGED = "person_changed", pgettext_lazy("audit", "Person changed")
    TEAM_CHANGED = "team_changed", pgettext_lazy("audit", "Team changed")
    ADMIN_CHANGED = "admin_changed", pgettext_lazy("audit", "HR admins changed")
    SETTINGS_CHANGED = "settings_changed", pgettext_lazy("audit", "Settings changed")
    CAMPAIGN_CHANGED = "campaign_changed", pgettext_lazy("audit", "Campaign changed")
    CAMPAIGN_LAUNCHED = "campaign_launched", pgettext_lazy("audit", "Campaign launched")
    CAMPAIGN_CLOSED = "campaign_closed", pgettext_lazy("audit", "Campaign closed")
    ROUND_OPENED = "round_opened", pgettext_lazy("audit", "Round opened")
    ROUND_CHANGED = "round_changed", pgettext_lazy("audit", "Round changed")
    ROUND_CLOSED = "round_closed", pgettext_lazy("audit", "Round closed")
    REMINDER_SENT = "reminder_sent", pgettext_lazy("audit", "Reminder sent by hand")
    SHARED = "shared", pgettext_lazy("audit", "Report shared")
    UNSHARED = "unshared", pgettext_lazy("audit", "Sharing stopped")
    AGREEMENT_CHANGED = "agreement_changed", pgettext_lazy("audit", "Agreement changed")
    DELETED = "deleted", pgettext_lazy("audit", "Deleted")
    PERSONAL_DATA_EXPORTED = "personal_data_exported", pgettext_lazy("audit", "A person's data exported")
    PERSON_ERASED = "person_erased", pgettext_lazy("audit", "Person erased")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("when"), db_index=True)
    # No database constraint and nothing done on delete: a row outlives its organisation and its
    # actor's account until the trail's retention ends, and is never updated to forget them.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    # Who did it: the account, and its address as it was then.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_email = models.CharField(_("who"), max_length=254, blank=True)
    client_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    action = models.CharField(_("what"), max_length=40, choices=AuditAction)
    # What it concerned, in words and ids a reader can follow (a round's or campaign's public id).
    target = models.CharField(_("concerning"), max_length=300, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["organisation", "-at"], name="audit_org_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action} {self.target}"
