"""The demo: its outbox page, sign-in by e-mail without a mail server, and HR's own page."""

import re

import pytest
from django.urls import reverse

from gensidig.models import SignInRequest, User
from gensidig.services.demo import ADMIN_EMAIL, DEMO_SLUG, build_demo
from gensidig.services.mail.demo_outbox import BACKEND, stored_messages
from gensidig.services.signin import send_sign_in_links

pytestmark = pytest.mark.django_db
SIGN_IN_LINK = re.compile(r"http://testserver/login/link/([A-Za-z0-9_\-]{43})/")


@pytest.fixture
def demo_mode(settings, tmp_path):
    """As `gensidig demo` serves: e-mails go to the demo's outbox, in a data folder of the test's own."""
    settings.DATA_DIR = tmp_path
    settings.SITE_URL = "http://testserver"
    settings.GENSIDIG_DEMO_OUTBOX = True
    settings.MAILERS = {"default": {"BACKEND": BACKEND, "OPTIONS": {}}}
    return tmp_path


def test_in_the_demo_a_sign_in_link_asked_for_arrives_in_its_outbox_and_signs_in(client, team, demo_mode):
    form = client.get(reverse("gensidig:sign-in-link")).content.decode()
    assert reverse("gensidig:demo-outbox") in form  # the form says where the link will be

    sent = client.post(reverse("gensidig:sign-in-link"), {"email": team.chief.email})
    assert sent.status_code == 200 and reverse("gensidig:demo-outbox") in sent.content.decode()
    waiting = client.get(reverse("gensidig:demo-outbox")).content.decode()
    assert 'http-equiv="refresh"' in waiting  # the sender has not handed it over yet: the page looks again

    assert send_sign_in_links() == 1  # what the demo's sender does within a second

    outbox = client.get(reverse("gensidig:demo-outbox")).content.decode()
    (message,) = stored_messages()
    assert team.chief.email in outbox and message.subject in outbox and 'http-equiv="refresh"' not in outbox
    page = client.get(reverse("gensidig:demo-outbox-message", args=[message.id])).content.decode()
    token = SIGN_IN_LINK.search(page).group(1)
    assert f'href="http://testserver/login/link/{token}/"' in page  # a link to click, as in a mail program
    signed_in = client.post(reverse("gensidig:sign-in-link-use", args=[token]))
    assert signed_in.status_code == 302
    assert client.get(reverse("gensidig:home")).wsgi_request.user == team.chief.user


def test_the_outbox_is_empty_at_first_and_says_how_to_fill_it(client, demo_mode):
    page = client.get(reverse("gensidig:demo-outbox")).content.decode()
    assert reverse("gensidig:sign-in-link") in page and not SignInRequest.objects.exists()


@pytest.mark.parametrize("message_id", ["..", "..%2F..%2Fsecret_key", "1234", "17650000000000000000-0123456789abcdef"])
def test_only_a_stored_message_of_the_outbox_can_be_opened(client, demo_mode, message_id):
    (demo_mode / "secret_key").write_text("not for the page")
    response = client.get(f"/demo/outbox/{message_id}/")
    assert response.status_code == 404 and b"not for the page" not in response.content


def test_the_outbox_and_its_messages_do_not_exist_outside_the_demo(client, team, demo_mode, settings):
    client.post(reverse("gensidig:sign-in-link"), {"email": team.chief.email})
    send_sign_in_links()
    (message,) = stored_messages()
    settings.GENSIDIG_DEMO_OUTBOX = False
    assert client.get(reverse("gensidig:demo-outbox")).status_code == 404
    assert client.get(reverse("gensidig:demo-outbox-message", args=[message.id])).status_code == 404
    sent = client.post(reverse("gensidig:sign-in-link"), {"email": team.chief.email}).content.decode()
    assert reverse("gensidig:demo-outbox") not in sent


def test_hr_signed_in_to_the_demo_is_led_to_the_organisation_and_what_they_can_do_there(client):
    demo = build_demo(base_url="http://testserver")
    client.force_login(User.objects.get(email=ADMIN_EMAIL))

    page = client.get(reverse("gensidig:home")).content.decode()

    main = page[page.index('id="main-content"') :]  # not the navigation, which always had the link
    assert f'href="{reverse("gensidig:org", args=[DEMO_SLUG])}"' in main and "Demo Kommune" in main
    for name in ("org-import", "org-teams", "campaign-new", "campaigns", "org-settings"):
        assert f'href="{reverse(f"gensidig:{name}", args=[DEMO_SLUG])}"' in main, name
    # The campaign open now, with a link to how many have answered.
    assert demo.campaign.name in main
    assert reverse("gensidig:campaign", args=[DEMO_SLUG, demo.campaign.public_id]) in main
