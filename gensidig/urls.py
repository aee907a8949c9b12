from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from django.views.i18n import set_language

from gensidig.converters import PublicIdConverter, TokenConverter
from gensidig.forms.auth import EmailAuthenticationForm
from gensidig.views import (
    admins,
    answer,
    audit,
    auth,
    campaigns,
    chief,
    demo,
    dialogue,
    exports,
    help_pages,
    imports,
    organisation,
    own_round,
    pages,
    people,
    personal_data,
    report,
    rollups,
    teams_admin,
)

register_converter(TokenConverter, "token")
register_converter(PublicIdConverter, "public_id")

gensidig_patterns = [
    path("", pages.home, name="home"),
    path("about/", pages.about, name="about"),
    path("help/", help_pages.index, name="help"),
    path("help/<slug:role>/", help_pages.role, name="help-role"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="gensidig/registration/login.html", authentication_form=EmailAuthenticationForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/link/", auth.request_link, name="sign-in-link"),
    path("login/link/<token:token>/", auth.use_link, name="sign-in-link-use"),
    path("a/<token:token>/", answer.token_intake, name="token-intake"),
    path("answer/", answer.answer, name="answer"),
    path("answer/thanks/", answer.thanks, name="answer-thanks"),
    path("rounds/<public_id:public_id>/", chief.round_detail, name="round"),
    path("rounds/<public_id:public_id>/close/", chief.round_close, name="round-close"),
    path("rounds/<public_id:public_id>/close/confirm/", own_round.round_close_confirm, name="round-close-confirm"),
    path("rounds/<public_id:public_id>/remind/", own_round.round_remind, name="round-remind"),
    path("rounds/<public_id:public_id>/resend/", own_round.round_resend, name="round-resend"),
    path("rounds/<public_id:public_id>/extend/", own_round.round_extend, name="round-extend"),
    path("teams/<public_id:public_id>/rounds/new/", own_round.round_new, name="own-round-new"),
    path("teams/<public_id:public_id>/rounds/new/e-mails/", own_round.mail_preview, name="own-round-mail-preview"),
    path("rounds/<public_id:public_id>/report/", report.overview, name="report"),
    path("rounds/<public_id:public_id>/report/<slug:theme_key>/", report.theme, name="report-theme"),
    path("rounds/<public_id:public_id>/report.pdf", exports.report_pdf, name="report-pdf"),
    path("rounds/<public_id:public_id>/figures.xlsx", exports.figures_xlsx, name="figures-xlsx"),
    path("rounds/<public_id:public_id>/figures.csv", exports.figures_csv, name="figures-csv"),
    path("rounds/<public_id:public_id>/guide/", dialogue.guide, name="guide"),
    path("rounds/<public_id:public_id>/guide.pdf", exports.guide_pdf, name="guide-pdf"),
    path("rounds/<public_id:public_id>/guide/present/", dialogue.present, name="guide-present"),
    path("rounds/<public_id:public_id>/guide/present/<int:step>/", dialogue.present, name="guide-present-step"),
    path(
        "rounds/<public_id:public_id>/guide/present/<int:step>/agreement/",
        dialogue.present_agreement,
        name="guide-present-agreement",
    ),
    path("rounds/<public_id:public_id>/agreements/", dialogue.agreements, name="agreements"),
    path(
        "rounds/<public_id:public_id>/agreements/<public_id:agreement_id>/status/",
        dialogue.agreement_status,
        name="agreement-status",
    ),
    path(
        "rounds/<public_id:public_id>/agreements/<public_id:agreement_id>/delete/",
        dialogue.agreement_delete,
        name="agreement-delete",
    ),
    path(
        "rounds/<public_id:public_id>/agreements/<public_id:agreement_id>/edit/",
        dialogue.agreement_edit,
        name="agreement-edit",
    ),
    path("rounds/<public_id:public_id>/share/", dialogue.share, name="share"),
    path("team/<public_id:public_id>/", report.team_overview, name="team-report"),
    path("team/<public_id:public_id>/report.pdf", exports.team_report_pdf, name="team-report-pdf"),
    path("team/<public_id:public_id>/figures.xlsx", exports.team_figures_xlsx, name="team-figures-xlsx"),
    path("team/<public_id:public_id>/figures.csv", exports.team_figures_csv, name="team-figures-csv"),
    path("team/<public_id:public_id>/<slug:theme_key>/", report.team_theme, name="team-report-theme"),
    path("org/<slug:slug>/", organisation.home, name="org"),
    path("org/<slug:slug>/people/", organisation.people, name="org-people"),
    path("org/<slug:slug>/people/new/", people.person_new, name="org-person-new"),
    path("org/<slug:slug>/people/export.csv", people.people_csv, name="org-people-csv"),
    path("org/<slug:slug>/people/export.xlsx", people.people_xlsx, name="org-people-xlsx"),
    path("org/<slug:slug>/people/<int:person_id>/", people.person_edit, name="org-person"),
    path("org/<slug:slug>/people/<int:person_id>/deactivate/", people.person_deactivate, name="org-person-deactivate"),
    path("org/<slug:slug>/people/<int:person_id>/reactivate/", people.person_reactivate, name="org-person-reactivate"),
    path("org/<slug:slug>/people/<int:person_id>/data/", personal_data.person_data, name="org-person-data"),
    path(
        "org/<slug:slug>/people/<int:person_id>/data.json", personal_data.person_data_json, name="org-person-data-json"
    ),
    path("org/<slug:slug>/people/<int:person_id>/erase/", personal_data.person_erase, name="org-person-erase"),
    path("org/<slug:slug>/teams/", organisation.teams, name="org-teams"),
    path("org/<slug:slug>/teams/new/", teams_admin.team_new, name="org-team-new"),
    path("org/<slug:slug>/teams/<public_id:public_id>/rename/", teams_admin.team_rename, name="org-team-rename"),
    path("org/<slug:slug>/teams/<public_id:public_id>/dissolve/", teams_admin.team_dissolve, name="org-team-dissolve"),
    path("org/<slug:slug>/admins/", admins.admins, name="org-admins"),
    path("org/<slug:slug>/admins/remove/", admins.admin_remove, name="org-admin-remove"),
    path("org/<slug:slug>/settings/", organisation.settings_page, name="org-settings"),
    path("org/<slug:slug>/audit/", audit.trail, name="org-audit"),
    path("org/<slug:slug>/audit.csv", audit.trail_csv, name="org-audit-csv"),
    path("org/<slug:slug>/import/", imports.upload, name="org-import"),
    path("org/<slug:slug>/import/<public_id:public_id>/", imports.preview, name="org-import-preview"),
    path("org/<slug:slug>/campaigns/", campaigns.campaign_list, name="campaigns"),
    path("org/<slug:slug>/campaigns/new/", campaigns.campaign_new, name="campaign-new"),
    path("org/<slug:slug>/campaigns/<public_id:public_id>/", campaigns.campaign_detail, name="campaign"),
    path(
        "org/<slug:slug>/campaigns/<public_id:public_id>/progress/",
        campaigns.campaign_progress,
        name="campaign-progress",
    ),
    path("org/<slug:slug>/campaigns/<public_id:public_id>/launch/", campaigns.campaign_launch, name="campaign-launch"),
    path("org/<slug:slug>/campaigns/<public_id:public_id>/close/", campaigns.campaign_close, name="campaign-close"),
    path("org/<slug:slug>/campaigns/<public_id:public_id>/resend/", campaigns.campaign_resend, name="campaign-resend"),
    path("org/<slug:slug>/campaigns/<public_id:public_id>/edit/", campaigns.campaign_edit, name="campaign-edit"),
    path("org/<slug:slug>/campaigns/<public_id:public_id>/delete/", campaigns.campaign_delete, name="campaign-delete"),
    path(
        "org/<slug:slug>/campaigns/<public_id:public_id>/withdraw/",
        campaigns.campaign_withdraw,
        name="campaign-withdraw",
    ),
    path("org/<slug:slug>/campaigns/<public_id:public_id>/remind/", campaigns.campaign_remind, name="campaign-remind"),
    path(
        "org/<slug:slug>/campaigns/<public_id:public_id>/preview-mail/",
        campaigns.campaign_mail_preview,
        name="campaign-mail-preview",
    ),
    path("campaigns/<public_id:public_id>/rollup/", rollups.rollup_start, name="rollup-start"),
    path("campaigns/<public_id:public_id>/rollup/<public_id:team_id>/", rollups.rollup, name="rollup"),
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
