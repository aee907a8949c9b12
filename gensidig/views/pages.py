"""Public pages: the front page, what the survey asks, and a health check."""

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import translation

from gensidig import framework as fw
from gensidig.models import Campaign, CampaignStatus, Organisation
from gensidig.services.access import administered_organisations, joined_teams, led_teams, shared_rounds
from gensidig.services.mail.demo_outbox import demo_outbox_on

from .chief import dashboard


def home(request):
    """The front page; signed in, the user's own page.

    Someone who only administers organisations (HR) has no team of their own, so their page is
    their organisations: what is going on there and what they can do. Whoever leads or belongs to
    a team gets the chief's page, with their organisations in the navigation.
    """
    user = request.user
    if not user.is_authenticated:
        return render(request, "gensidig/pages/home.html", {"demo_outbox": demo_outbox_on()})
    organisations = administered_organisations(user)
    if organisations.exists() and not (
        led_teams(user).exists() or joined_teams(user).exists() or shared_rounds(user).exists()
    ):
        return render(request, "gensidig/pages/home.html", {"organisations": _overview(organisations)})
    return dashboard(request)


def _overview(organisations) -> list[Organisation]:
    """Each organisation with its counts and its campaigns that are open or scheduled, for HR's page."""
    found = list(
        organisations.annotate(
            people_count=Count("people", filter=Q(people__active=True), distinct=True),
            team_count=Count("teams", filter=Q(teams__active=True), distinct=True),
        ).order_by("name")
    )
    current = (
        Campaign.objects.filter(
            organisation__in=[organisation.pk for organisation in found],
            status__in=[CampaignStatus.OPEN, CampaignStatus.SCHEDULED],
        )
        .select_related("root_team")
        .order_by("closes_at")
    )
    for organisation in found:
        organisation.current_campaigns = [c for c in current if c.organisation_id == organisation.pk]
    return found


def about(request):
    """The framework as it stands, with the source credited."""
    framework = fw.load(fw.CURRENT_VERSION, translation.get_language())
    return render(request, "gensidig/pages/about.html", {"framework": framework})


def health(request):
    """For load balancers and monitoring: 200 when the database answers, 503 (and why) when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except (OperationalError, InterfaceError):
        response = HttpResponse("unavailable\ndatabase: unavailable\n", content_type="text/plain", status=503)
        response["Retry-After"] = str(settings.GENSIDIG_RETRY_AFTER)
        return response
    return HttpResponse("ok\ndatabase: ok\n", content_type="text/plain")
