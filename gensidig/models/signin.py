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
