"""Bodies over their limit get 413 before they are read: an anonymous 100 MB post to /login/ included."""

import io

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.urls import reverse

pytestmark = pytest.mark.django_db

HUNDRED_MB = 100 * 1024 * 1024


class CountingBody(io.RawIOBase):
    """A request body that makes its bytes only when read, and counts them."""

    def __init__(self, size: int):
        self.size = size
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"\0" * n
        self.read_bytes += n
        return n


def post_raw(path: str, *, content_type: str, body: CountingBody, language: str = "da"):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(body.size),
        "HTTP_ACCEPT_LANGUAGE": language,
        "REMOTE_ADDR": "198.51.100.50",
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(headers)

    content = b"".join(WSGIHandler()(environ, start_response))
    return started["status"], started["headers"], content.decode()


def test_an_anonymous_hundred_megabyte_upload_to_the_sign_in_page_is_refused_unread():
    body = CountingBody(HUNDRED_MB)
    status, headers, page = post_raw(
        reverse("gensidig:login"), content_type="multipart/form-data; boundary=xyz", body=body
    )
    assert status == 413
    assert body.read_bytes == 0
    assert headers.get("Connection") == "close"
    assert "for stort" in page


@pytest.mark.parametrize("path_name", ["gensidig:login", "gensidig:sign-in-link", "gensidig:answer"])
def test_a_form_body_over_the_form_limit_is_refused_unread(path_name):
    body = CountingBody(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    status, _headers, page = post_raw(
        reverse(path_name), content_type="application/x-www-form-urlencoded", body=body, language="en"
    )
    assert status == 413
    assert body.read_bytes == 0
    assert "too large" in page


def test_an_upload_within_the_limit_reaches_the_page(client):
    # Not refused by size: the sign-in page answers as it does to any form (here: a CSRF failure, 403).
    body = b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="a.csv"\r\n\r\n' + b"a" * 1024
    body += b"\r\n--xyz--\r\n"
    response = client.generic("POST", reverse("gensidig:login"), body, content_type="multipart/form-data; boundary=xyz")
    assert response.status_code != 413
