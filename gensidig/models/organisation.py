"""Organisations, the people in them, and the management teams they form."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .choices import Language
from .fields import PublicIdField


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """Someone who signs in: a chief (and, later, admins and leaders). Identified by e-mail."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    def __str__(self):
        return self.email


def default_languages() -> list[str]:
    return [Language.DANISH, Language.ENGLISH]


def default_reminder_days() -> list[int]:
    return [7, 2]


class Organisation(models.Model):
    """The data controller: a municipality, a region, or any organisation with leaders of leaders."""

    slug = models.SlugField(_("short name"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    anonymity_threshold = models.PositiveSmallIntegerField(
        _("anonymity threshold (k)"),
        default=settings.GENSIDIG_DEFAULT_THRESHOLD,
        validators=[MinValueValidator(settings.GENSIDIG_MINIMUM_THRESHOLD)],
        help_text=_("The fewest leaders whose answers may be shown together. 5 unless lowered to 4 or 3."),
    )
    privacy_contact = models.CharField(
        _("privacy contact"),
        max_length=200,
        blank=True,
        help_text=_("Where respondents can ask about their data, e.g. the data protection officer's address."),
    )
    retention_months = models.PositiveSmallIntegerField(
        _("retention (months)"),
        default=36,
        help_text=_("How long answers are kept after a round closes."),
    )
    languages = models.JSONField(
        _("languages"),
        default=default_languages,
        help_text=_("The languages people can answer in; invitations go out in each person's own."),
    )
    invitation_note = models.TextField(
        _("a note with the invitation"),
        blank=True,
        max_length=500,
        help_text=_(
            "A few words from the organisation that every invitation carries, for example who to ask. "
            "Leave it empty for none."
        ),
    )
    reminder_days = models.JSONField(
        _("reminders (days before close)"),
        default=default_reminder_days,
        help_text=_("Those who have not answered get a reminder this many days before a round closes."),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(anonymity_threshold__gte=settings.GENSIDIG_MINIMUM_THRESHOLD),
                name="organisation_threshold_at_least_minimum",
            )
        ]

    def __str__(self):
        return self.name

    def language_for(self, person_language: str | None) -> str:
        """The language to write to someone in: their own if the organisation offers it."""
        offered = self.languages or [Language.DANISH]
        return person_language if person_language in offered else offered[0]


class Person(models.Model):
    """Someone in the organisation's chart. Leaders never need an account to answer."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="people")
    email = models.EmailField(_("e-mail address"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language, default=Language.DANISH)
    title = models.CharField(_("title"), max_length=200, blank=True)
    unit = models.CharField(_("unit"), max_length=200, blank=True)
    manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports", verbose_name=_("manager")
    )
    # People who leave the chart are kept (their invitations of past rounds refer to them), but inactive,
    # until GENSIDIG_ERASE_LEAVERS_AFTER_DAYS after the day they left; then their name and address go.
    active = models.BooleanField(_("active"), default=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    erased = models.BooleanField(_("erased"), default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="people"
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(Lower("email"), "organisation", name="person_email_unique_in_organisation"),
        ]
        indexes = [
            # The people page's order: a page of 50 is read from the index, not sorted from everyone.
            models.Index(fields=["organisation", "-active", "name", "id"], name="person_list_order"),
        ]

    def __str__(self):
        return self.name or self.email


class Team(models.Model):
    """A management team: one chief and the leaders who report to them."""

    public_id = PublicIdField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="teams")
    slug = models.SlugField(_("short name"))
    name = models.CharField(_("name"), max_length=200)
    chief = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="teams_led", verbose_name=_("chief"))
    leaders = models.ManyToManyField(Person, through="TeamMembership", related_name="teams_joined")
    # The team in which this team's chief is a leader: the hierarchy roll-ups follow.
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children", verbose_name=_("parent team")
    )
    active = models.BooleanField(_("active"), default=True)
    # The import names a team after its chief's unit; once HR has named it, later imports keep that name.
    named_by_hr = models.BooleanField(_("named by HR"), default=False)

    class Meta:
        verbose_name = _("management team")
        verbose_name_plural = _("management teams")
        constraints = [models.UniqueConstraint("organisation", "slug", name="team_slug_unique_in_organisation")]
        indexes = [
            # The teams page reads the chart's shape (id, parent, name) without touching the rows.
            models.Index(fields=["organisation", "active", "name", "id", "parent"], name="team_list_order"),
        ]

    def __str__(self):
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        constraints = [models.UniqueConstraint("team", "person", name="membership_unique")]


class OrganisationAdmin(models.Model):
    """Someone in HR (or a leadership developer) who runs Gensidig for an organisation.

    They import the chart, launch campaigns and follow counts and roll-ups; they never see a
    single team's answers through this role.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="admins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="admin_of")

    class Meta:
        verbose_name = _("organisation admin")
        verbose_name_plural = _("organisation admins")
        constraints = [models.UniqueConstraint("organisation", "user", name="admin_unique")]
