"""A closed round's report pages and PDFs are rendered once and kept (services/results/rendered.py).

What is kept must be exactly what a fresh render gives, for the reader it was made for only, gone
the moment anything it shows changes, and never a way around the access checks or the audit trail.
"""

import io
import re
from dataclasses import replace

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from gensidig.models import (
    Agreement,
    AuditAction,
    AuditEvent,
    Organisation,
    OrganisationAdmin,
    Person,
    Rendered,
    RenderGeneration,
    Round,
    Team,
)
from gensidig.services import agreements as agreement_service
from gensidig.services import pdf as pdf_service
from gensidig.services.guide import choose
from gensidig.services.mail.shared_report import share_report, stop_sharing
from gensidig.services.organisation.chart import apply_import, read_chart
from gensidig.services.organisation.people import PersonDetails, edit_person
from gensidig.services.organisation.teams import ensure_login, upsert_person
from gensidig.services.personal_data import erase_person
from gensidig.services.results import rendered
from gensidig.services.retention import add_months, purge_expired
from gensidig.services.survey.closing import close_round

from ..factories import closed_round, make_team, start_round
from .test_dialogue_views import leader_client, text_of
from .test_report_views import leader_value, sign_in

pytestmark = pytest.mark.django_db

COMMENT = "Kun til chefen – aldrig gemt i en kopi"
AGREED = "Månedlige strategimøder i ledelsesteamet"
FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def closed(team):
    return closed_round(team, answering=6, value=leader_value, chief_value=4, comments={"direction": COMMENT})


@pytest.fixture
def pdfs_made(monkeypatch):
    """Every PDF WeasyPrint makes, counted: a kept PDF is given without making it again."""
    made = []
    real = pdf_service.html_to_pdf

    def counting(**kwargs):
        made.append(kwargs["html"])
        return real(**kwargs)

    monkeypatch.setattr("gensidig.views.exports.html_to_pdf", counting)
    return made


def url(name, round_, *args):
    return reverse(f"gensidig:{name}", args=[round_.public_id, *args])


def page(response) -> str:
    """The page without its form tokens, which Django masks afresh for every response."""
    assert response.status_code == 200, response.status_code
    return FORM_TOKEN.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())


def pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))


def kept_names(round_) -> set[str]:
    return set(Rendered.objects.filter(round=round_).values_list("name", flat=True))


def forget_all():
    Rendered.objects.all().delete()


# --- Kept, and the same as a fresh render ----------------------------------------------------------


@pytest.mark.parametrize("name, args", [("report", ()), ("report-theme", ("direction",))])
def test_a_second_view_is_the_kept_page_and_runs_fewer_statements(client, team, closed, name, args):
    sign_in(client, team)
    with CaptureQueriesContext(connection) as first:
        fresh = page(client.get(url(name, closed, *args)))
    assert kept_names(closed) == {f"page:chief:{'overview' if not args else 'theme:direction'}:da"}
    with CaptureQueriesContext(connection) as second:
        again = page(client.get(url(name, closed, *args)))
    assert again == fresh
    assert len(second) < len(first) - 4, (len(first), len(second))
    writes = [q["sql"] for q in second.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "gensidig_auditevent" in writes[0]  # the audit trail's row, nothing kept again


def test_a_kept_page_is_what_rendering_it_afresh_gives(client, team, closed):
    sign_in(client, team)
    agreement_service.record_agreement(round_=closed, theme_key="direction", text=AGREED, owner="team")
    for name, args in (("report", ()), ("report-theme", ("direction",)), ("report-theme", ("strengths",))):
        kept = page(client.get(url(name, closed, *args)))
        kept = page(client.get(url(name, closed, *args)))
        forget_all()
        assert page(client.get(url(name, closed, *args))) == kept


def test_every_view_of_a_kept_page_or_pdf_is_in_the_audit_trail(client, team, closed, pdfs_made):
    sign_in(client, team)
    for _ in range(3):
        client.get(url("report", closed))
        client.get(url("guide-pdf", closed))
    assert len(pdfs_made) == 1
    assert AuditEvent.objects.filter(action=AuditAction.REPORT_VIEWED).count() == 3
    assert AuditEvent.objects.filter(action=AuditAction.EXPORTED).count() == 3


def test_the_second_download_of_each_pdf_is_the_kept_file(client, team, closed, pdfs_made):
    sign_in(client, team)
    first = {name: client.get(url(name, closed)) for name in ("report-pdf", "guide-pdf")}
    assert len(pdfs_made) == 2
    for name, response in first.items():
        again = client.get(url(name, closed))
        assert again.content == response.content
        assert again["Content-Disposition"] == response["Content-Disposition"]
        assert again["Cache-Control"] == "no-store, private"  # kept on the server only
    assert len(pdfs_made) == 2
    assert kept_names(closed) == {"pdf:chief:report:da", "pdf:guide:guide:da:two_hours:"}


def test_each_language_has_its_own_kept_page(client, team, closed):
    sign_in(client, team)
    danish = page(client.get(url("report", closed)))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = page(client.get(url("report", closed)))
    assert "Themes to talk about" in english and "Themes to talk about" not in danish
    assert kept_names(closed) == {"page:chief:overview:da", "page:chief:overview:en"}


def test_comments_are_never_kept_and_are_shuffled_on_every_view(client, team):
    round_ = closed_round(team, answering=6, comments={"direction": "x"})
    # Different comments, so that an order can be seen: one leader's each.
    from gensidig.models import Comment

    Comment.objects.filter(round=round_).delete()
    Comment.objects.bulk_create(Comment(round=round_, theme_key="direction", text=f"Tekst {i}") for i in range(6))
    sign_in(client, team)
    orders = {tuple(client.get(url("report-theme", round_, "direction")).context["comments"]) for _ in range(12)}
    assert len(orders) > 1
    assert all(b"Tekst" not in bytes(content) for content in Rendered.objects.values_list("content", flat=True))


def test_what_is_kept_holds_no_comment_no_form_token_and_nothing_of_the_reader(client, team, closed):
    sign_in(client, team)
    client.get(url("report", closed))
    assert COMMENT in client.get(url("report-theme", closed, "direction")).content.decode()  # shown, not kept
    leader = leader_client(client, closed)
    share_report(round_=closed)
    leader.get(url("team-report", closed))
    kept = b" ".join(bytes(c) for c in Rendered.objects.values_list("content", flat=True))
    assert kept
    for private in (COMMENT, "csrfmiddlewaretoken", team.chief.email, team.chief.name, "Log ud", "Sign out"):
        assert private.encode() not in kept, private


def test_a_part_with_a_form_token_is_refused_rather_than_kept(monkeypatch):
    # A template change that put a form into a kept part would keep one reader's token for all.
    form = '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="abc"></form>'
    monkeypatch.setattr(rendered, "render_to_string", lambda name, context: form)
    with pytest.raises(ValueError, match="holds a form"):
        rendered.render_parts("gensidig/report/overview.html", ("top",), {})


# --- Gone when what they show changes ----------------------------------------------------------------


def test_a_stale_pdf_is_never_given_after_an_agreement_changes(client, team, closed):
    sign_in(client, team)
    assert AGREED not in pdf_text(client.get(url("report-pdf", closed)))
    client.post(url("agreements", closed), {"theme": "direction", "text": AGREED, "owner": "team"})
    assert not kept_names(closed)
    assert AGREED in pdf_text(client.get(url("report-pdf", closed)))


def test_recording_editing_and_deleting_an_agreement_each_show_on_the_next_view(client, team, closed):
    sign_in(client, team)
    client.get(url("report", closed))
    agreement = agreement_service.record_agreement(round_=closed, theme_key="direction", text=AGREED, owner="team")
    assert AGREED in page(client.get(url("report", closed)))
    agreement_service.edit_agreement(agreement=agreement, text="Kvartalsvise møder", owner="chief")
    shown = page(client.get(url("report", closed)))
    assert "Kvartalsvise møder" in shown and AGREED not in shown
    client.post(url("agreement-delete", closed, agreement.public_id))
    assert not Agreement.objects.exists()
    assert "Kvartalsvise møder" not in page(client.get(url("report", closed)))


def test_the_status_of_an_earlier_rounds_agreement_shows_in_the_next_rounds_report(client, team):
    first = closed_round(team, answering=6)
    agreement = agreement_service.record_agreement(round_=first, theme_key="direction", text=AGREED, owner="team")
    second = closed_round(team, answering=6)
    sign_in(client, team)
    assert "Aftalt" in text_of(client.get(url("report", second)))
    client.post(url("agreement-status", second, agreement.public_id), {"status": "done"})
    shown = text_of(client.get(url("report", second)))
    assert "Gennemført" in shown and "Aftalt ·" not in shown


def test_sharing_and_unsharing_change_what_the_team_and_its_later_rounds_show(client, team):
    first = closed_round(team, answering=6)
    second = closed_round(team, answering=6)
    share_report(round_=second)
    leader = leader_client(client, second)
    # Round 1 is the chief's alone: the team's course does not show it.
    assert "Runde 1 (" not in text_of(leader.get(url("team-report", second)))
    share_report(round_=first)
    assert "Runde 1 (" in text_of(leader.get(url("team-report", second)))
    stop_sharing(round_=first)
    assert "Runde 1 (" not in text_of(leader.get(url("team-report", second)))
    stop_sharing(round_=second)
    assert leader.get(url("team-report", second)).status_code == 404
    assert not Rendered.objects.filter(round=second).exists()


def test_the_guides_choices_give_a_new_guide_pdf(client, team, closed, pdfs_made):
    sign_in(client, team)
    assert "Pause" not in pdf_text(client.get(url("guide-pdf", closed)))
    choose(round_=closed, format="half_day", focus_theme_keys=[])
    assert not kept_names(closed)
    assert "Pause" in pdf_text(client.get(url("guide-pdf", closed)))
    assert kept_names(closed) == {"pdf:guide:guide:da:half_day:"}


def test_erasing_a_person_takes_their_name_out_of_every_kept_page_and_pdf(client, team, closed, pdfs_made):
    leader = Person.objects.get(pk=closed.invitations.filter(role="leader").first().person_id)
    leader.name = "Kirsten Sørensen-Ravn"
    leader.save()
    agreement_service.record_agreement(
        round_=closed, theme_key="direction", text=AGREED, owner="leader", owner_person=leader
    )
    sign_in(client, team)
    # The guide names the owners of its themes' agreements as the report does (and is made faster).
    assert leader.name in page(client.get(url("report", closed)))
    assert leader.name in pdf_text(client.get(url("guide-pdf", closed)))
    Person.objects.filter(pk=leader.pk).update(active=False)
    erase_person(person=leader)
    assert not kept_names(closed)
    assert leader.name not in page(client.get(url("report", closed)))
    assert leader.name not in pdf_text(client.get(url("guide-pdf", closed)))


def test_a_new_name_for_a_leader_named_in_an_agreement_shows_at_once(client, team, closed):
    leader = Person.objects.get(pk=closed.invitations.filter(role="leader").first().person_id)
    agreement_service.record_agreement(
        round_=closed, theme_key="direction", text=AGREED, owner="leader", owner_person=leader
    )
    sign_in(client, team)
    client.get(url("report", closed))
    upsert_person(organisation=team.organisation, email=leader.email, name="Bo Ærø")
    assert "Bo Ærø" in page(client.get(url("report", closed)))


def test_hr_renaming_or_readdressing_a_leader_named_in_an_agreement_retires_what_was_kept(client):
    # Through HR's own path: the person page's change goes through the import (chart.apply_import).
    from ..services.test_orgchart import chart_csv

    organisation = apply_import(
        organisation_slug="kommune", chart=read_chart(data=chart_csv(), filename="chart.csv")
    ).organisation
    team = Team.objects.get(organisation=organisation, chief__email="chef.aeldre@kommune.dk")
    round_ = closed_round(team, answering=0)
    hans = Person.objects.get(organisation=organisation, email="leder.hjemme@kommune.dk")
    agreement_service.record_agreement(
        round_=round_, theme_key="direction", text=AGREED, owner="leader", owner_person=hans
    )
    client.force_login(ensure_login(person=team.chief))
    assert "Hans Hjem" in page(client.get(url("report", round_)))

    details = PersonDetails(
        email=hans.email, name="Hans Hjemme-Hansen", unit=hans.unit, manager_email="chef.aeldre@kommune.dk"
    )
    edit_person(organisation=organisation, person=hans, details=details)
    assert not kept_names(round_)
    assert "Hans Hjemme-Hansen" in page(client.get(url("report", round_)))

    edit_person(organisation=organisation, person=hans, details=replace(details, email="hans.ny@kommune.dk"))
    assert not kept_names(round_)


def test_the_teams_new_name_shows_at_once(client, team, closed):
    sign_in(client, team)
    client.get(url("report-theme", closed, "direction"))
    team.name = "Område Vest"
    team.save()
    shown = page(client.get(url("report-theme", closed, "direction")))
    assert "Område Vest" in shown


def test_a_new_version_of_the_code_renders_afresh(client, team, closed, monkeypatch):
    sign_in(client, team)
    client.get(url("report", closed))
    kept = Rendered.objects.get(round=closed)
    monkeypatch.setattr(rendered, "code_version", lambda: "a later deployment")
    client.get(url("report", closed))
    assert Rendered.objects.get(round=closed).version != kept.version  # rendered again, and kept in its place


def test_closing_a_round_retires_what_was_kept_for_the_teams_other_rounds(client, team, closed):
    sign_in(client, team)
    client.get(url("report", closed))
    round_, _links = start_round(team)
    close_round(round_=round_)
    assert not Rendered.objects.filter(round=closed).exists()


def test_a_purge_deletes_what_was_kept_with_the_figures(client, team, closed):
    sign_in(client, team)
    client.get(url("report", closed))
    client.get(url("report-theme", closed, "direction"))
    assert kept_names(closed)
    purge_expired(today=add_months(closed.closed_on, team.organisation.retention_months))
    assert not Rendered.objects.exists()
    assert client.get(url("report", closed)).status_code == 410
    assert not Rendered.objects.exists()


def test_deleting_the_organisation_deletes_what_was_kept(client, team, closed):
    sign_in(client, team)
    client.get(url("report", closed))
    assert Rendered.objects.exists() and RenderGeneration.objects.exists()
    # As the demo's reset does it: the rounds, the teams, then the organisation with its people.
    Round.objects.filter(team__organisation=team.organisation).delete()
    assert not Rendered.objects.exists()
    Team.objects.filter(organisation=team.organisation).delete()
    Organisation.objects.filter(pk=team.organisation_id).delete()
    assert not Rendered.objects.exists() and not RenderGeneration.objects.exists()


def test_a_render_that_read_the_old_state_is_not_kept_after_a_change(team, closed):
    # A change made while a render is under way (another request, another app server) moves the
    # generation on: the render is given to its own reader, but not kept for the next.
    name = rendered.name_of("pdf", "chief", "report", "da")

    def make_while_a_change_happens():
        agreement_service.record_agreement(round_=closed, theme_key="direction", text=AGREED, owner="team")
        return b"rendered before the agreement"

    round_ = Round.objects.select_related("team").get(pk=closed.pk)
    assert rendered.kept(round_=round_, name=name, make=make_while_a_change_happens) == b"rendered before the agreement"
    assert not Rendered.objects.exists()
    assert rendered.kept(round_=round_, name=name, make=lambda: b"after") == b"after"
    assert rendered.kept(round_=round_, name=name, make=lambda: b"never made again") == b"after"


# --- Never a way around who may see what -------------------------------------------------------------


def test_a_leader_of_a_shared_round_never_gets_the_chiefs_kept_pdf_or_page(client, team, closed, pdfs_made):
    sign_in(client, team)
    client.post(url("share", closed), {"share": "yes"})
    chief_pdf = client.get(url("report-pdf", closed))
    client.get(url("report", closed))
    assert {"pdf:chief:report:da", "page:chief:overview:da"} <= kept_names(closed)
    leader = leader_client(client, closed)
    for name in ("report-pdf", "guide-pdf", "report", "figures-csv"):
        assert leader.get(url(name, closed)).status_code == 404, name
    team_pdf = leader.get(url("team-report-pdf", closed))
    assert team_pdf.content != chief_pdf.content
    text = pdf_text(team_pdf)
    assert "Det har lederne brug for fra chefen" in text and "Det har lederne brug for fra dig" not in text
    assert COMMENT not in page(leader.get(url("team-report-theme", closed, "direction")))
    assert "pdf:team:report:da" in kept_names(closed) and "pdf:chief:report:da" in kept_names(closed)


def test_hr_of_another_organisation_or_of_this_one_gets_nothing_kept(client, team, closed, django_user_model):
    sign_in(client, team)
    share_report(round_=closed)
    for name in ("report", "report-pdf"):
        client.get(url(name, closed))
    client.get(url("team-report", closed))
    other = make_team(leaders=5).organisation
    for organisation in (other, team.organisation):
        hr = django_user_model.objects.create_user(email=f"hr@{organisation.slug}.example", password="hr-password-1")
        OrganisationAdmin.objects.create(organisation=organisation, user=hr)
        client.force_login(hr)
        for name in ("report", "report-pdf", "guide-pdf", "team-report", "team-report-pdf"):
            assert client.get(url(name, closed)).status_code == 404, (organisation, name)


def test_another_chief_and_an_outsider_get_nothing_kept(client, team, closed, outsider):
    sign_in(client, team)
    client.get(url("report", closed))
    assert kept_names(closed)
    sign_in(client, make_team(leaders=5))
    assert client.get(url("report", closed)).status_code == 404
    assert client.get(url("report-pdf", closed)).status_code == 404
    client.force_login(outsider)
    assert client.get(url("report-pdf", closed)).status_code == 404
    client.logout()
    assert client.get(url("report-pdf", closed)).status_code == 302
