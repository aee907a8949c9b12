from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from gensidig.forms.auth import EmailAuthenticationForm
from gensidig.views import (
    answer,
    auth,
    campaigns,
    chief,
    demo,
    dialogue,
    exports,
    imports,
    organisation,
    pages,
    report,
    rollups,
)

gensidig_patterns = [
    path("", pages.home, name="home"),
    path("about/", pages.about, name="about"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="gensidig/registration/login.html", authentication_form=EmailAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/link/", auth.request_link, name="sign-in-link"),
    path("login/link/<str:token>/", auth.use_link, name="sign-in-link-use"),
    path("a/<str:token>/", answer.token_intake, name="token-intake"),
    path("answer/", answer.answer, name="answer"),
    path("answer/thanks/", answer.thanks, name="answer-thanks"),
    path("rounds/<str:public_id>/", chief.round_detail, name="round"),
    path("rounds/<str:public_id>/close/", chief.round_close, name="round-close"),
    path("rounds/<str:public_id>/report/", report.overview, name="report"),
    path("rounds/<str:public_id>/report/<slug:theme_key>/", report.theme, name="report-theme"),
    path("rounds/<str:public_id>/report.pdf", exports.report_pdf, name="report-pdf"),
    path("rounds/<str:public_id>/figures.xlsx", exports.figures_xlsx, name="figures-xlsx"),
    path("rounds/<str:public_id>/figures.csv", exports.figures_csv, name="figures-csv"),
    path("rounds/<str:public_id>/guide/", dialogue.guide, name="guide"),
    path("rounds/<str:public_id>/guide.pdf", exports.guide_pdf, name="guide-pdf"),
    path("rounds/<str:public_id>/guide/present/", dialogue.present, name="guide-present"),
    path("rounds/<str:public_id>/guide/present/<int:step>/", dialogue.present, name="guide-present-step"),
    path("rounds/<str:public_id>/agreements/", dialogue.agreements, name="agreements"),
    path(
        "rounds/<str:public_id>/agreements/<str:agreement_id>/status/",
        dialogue.agreement_status,
        name="agreement-status",
    ),
    path(
        "rounds/<str:public_id>/agreements/<str:agreement_id>/delete/",
        dialogue.agreement_delete,
        name="agreement-delete",
    ),
    path("rounds/<str:public_id>/share/", dialogue.share, name="share"),
    path("team/<str:public_id>/", report.team_overview, name="team-report"),
    path("team/<str:public_id>/report.pdf", exports.team_report_pdf, name="team-report-pdf"),
    path("team/<str:public_id>/figures.xlsx", exports.team_figures_xlsx, name="team-figures-xlsx"),
    path("team/<str:public_id>/figures.csv", exports.team_figures_csv, name="team-figures-csv"),
    path("team/<str:public_id>/<slug:theme_key>/", report.team_theme, name="team-report-theme"),
    path("org/<slug:slug>/", organisation.home, name="org"),
    path("org/<slug:slug>/people/", organisation.people, name="org-people"),
    path("org/<slug:slug>/teams/", organisation.teams, name="org-teams"),
    path("org/<slug:slug>/settings/", organisation.settings_page, name="org-settings"),
    path("org/<slug:slug>/import/", imports.upload, name="org-import"),
    path("org/<slug:slug>/import/<str:public_id>/", imports.preview, name="org-import-preview"),
    path("org/<slug:slug>/campaigns/", campaigns.campaign_list, name="campaigns"),
    path("org/<slug:slug>/campaigns/new/", campaigns.campaign_new, name="campaign-new"),
    path("org/<slug:slug>/campaigns/<str:public_id>/", campaigns.campaign_detail, name="campaign"),
    path("org/<slug:slug>/campaigns/<str:public_id>/progress/", campaigns.campaign_progress, name="campaign-progress"),
    path("org/<slug:slug>/campaigns/<str:public_id>/launch/", campaigns.campaign_launch, name="campaign-launch"),
    path("org/<slug:slug>/campaigns/<str:public_id>/close/", campaigns.campaign_close, name="campaign-close"),
    path("org/<slug:slug>/campaigns/<str:public_id>/resend/", campaigns.campaign_resend, name="campaign-resend"),
    path("campaigns/<str:public_id>/rollup/", rollups.rollup_start, name="rollup-start"),
    path("campaigns/<str:public_id>/rollup/<str:team_id>/", rollups.rollup, name="rollup"),
    path("healthz/", pages.health, name="health"),
    # Only while `gensidig demo` serves (GENSIDIG_DEMO_OUTBOX); a 404 otherwise.
    path("demo/outbox/", demo.outbox, name="demo-outbox"),
    path("demo/outbox/<str:message_id>/", demo.outbox_message, name="demo-outbox-message"),
]

urlpatterns = [
    path("", include((gensidig_patterns, "gensidig"))),
    path("i18n/setlang/", set_language, name="set_language"),
]

if settings.GENSIDIG_BENCHMARK_VIEWS:
    from gensidig.views import benchmark

    urlpatterns.append(path("bench/baseline/", benchmark.one_row_insert, name="bench-baseline"))

handler400 = "gensidig.views.errors.bad_request"
handler403 = "gensidig.views.errors.permission_denied"
handler404 = "gensidig.views.errors.not_found"
handler500 = "gensidig.views.errors.server_error"
