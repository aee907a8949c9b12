"""URL converters: a token in a path is only ever the token alphabet, or the URL does not match (404)."""

from gensidig.services.survey.tokens import TOKEN_PATTERN


class TokenConverter:
    """43 characters of URL-safe base64, as `secrets.token_urlsafe(32)` makes them (answer and sign-in links).

    Anything else (another length, a non-ASCII character) never reaches a view: it gets the same
    neutral 404 page as any unknown address, and nothing is looked up or hashed.
    """

    regex = TOKEN_PATTERN.pattern.removeprefix("^").removesuffix("$")

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class PublicIdConverter:
    """A public id (`PublicIdField`): up to 16 characters of URL-safe base64, or the URL does not match (404).

    Anything else (a NUL, which PostgreSQL cannot compare with a text column, a non-ASCII character,
    an id longer than the column) never reaches a view or the database.
    """

    regex = "[A-Za-z0-9_-]{1,16}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
