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
