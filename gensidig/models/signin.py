"""One-time sign-in links sent by e-mail."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SignInLink(models.Model):
    """A link that signs one user in once, within a short time. Only the token's hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)

    def usable(self, now=None) -> bool:
        return not self.used and (now or timezone.now()) < self.expires_at


class SignInRequest(models.Model):
    """A request for a sign-in link, waiting for the sender.

    The form stores every request alike, known address or not, and answers at once; the sender
    looks the address up, e-mails a link if it belongs to someone, and deletes the request. So
    the form takes the same time for everyone and tells nobody who is in the system.
    """

    email = models.EmailField(max_length=254)
    language = models.CharField(max_length=10)
