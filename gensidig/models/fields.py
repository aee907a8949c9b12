import secrets

from django.db import models


def new_public_id() -> str:
    """A random identifier for URLs, so ids cannot be guessed or counted.

    Never one that begins with "-": a command line reads that as an option (about one id in 64
    would). Ids made before this rule still work on the command line after "--".
    """
    while True:
        candidate = secrets.token_urlsafe(9)
        if not candidate.startswith("-"):
            return candidate


class PublicIdField(models.CharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("default", new_public_id)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        for key in ("max_length", "unique", "default", "editable"):
            kwargs.pop(key, None)
        return name, "gensidig.models.fields.PublicIdField", args, kwargs
