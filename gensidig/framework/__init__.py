"""The framework: six themes of what leaders need from their chief, and what the chief expects back.

It lives as versioned data files, one per language, in ``versions/<version>/<language>.toml``,
written in the project's own words with the source publication credited. This module reads
and checks them and turns them into plain, immutable objects.

A round never reads the files: it keeps a frozen copy (an ``Instrument``), see
``gensidig.services.survey.instruments``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VERSIONS_DIR = Path(__file__).resolve().parent / "versions"
CURRENT_VERSION = "1"
LANGUAGES = ("da", "en")

NEEDS_PER_THEME = 4
EXPECTATIONS_PER_THEME = 3


class FrameworkError(ValueError):
    """The data files do not have the shape the survey and the reports rely on."""


@dataclass(frozen=True)
class Need:
    key: str  # "theme.need", unique in the instrument
    theme_key: str
    title: str
    leader_text: str
    chief_text: str


@dataclass(frozen=True)
class Expectation:
    key: str
    theme_key: str
    title: str
    chief_text: str
    leader_text: str


@dataclass(frozen=True)
class Theme:
    key: str
    position: int
    title: str
    summary: str
    needs: tuple[Need, ...]
    expectations: tuple[Expectation, ...]
    practices: tuple[str, ...]
    risks: tuple[str, ...]
    chief_practices: tuple[str, ...]
    dilemmas: tuple[str, ...]
    reflection_leaders: tuple[str, ...]
    reflection_chief: tuple[str, ...]


@dataclass(frozen=True)
class Difference:
    key: str
    title: str
    text: str


@dataclass(frozen=True)
class Framework:
    version: str
    language: str
    title: str
    credit: str
    differences: tuple[Difference, ...]
    themes: tuple[Theme, ...]

    def theme(self, key: str) -> Theme:
        for theme in self.themes:
            if theme.key == key:
                return theme
        raise KeyError(key)

    @property
    def needs(self) -> tuple[Need, ...]:
        return tuple(need for theme in self.themes for need in theme.needs)

    @property
    def expectations(self) -> tuple[Expectation, ...]:
        return tuple(exp for theme in self.themes for exp in theme.expectations)

    def item_title(self, key: str) -> str:
        return self.item_titles()[key]

    @cache  # noqa: B019 - instances are immutable and few (one per version and language)
    def item_titles(self) -> dict[str, str]:
        return {item.key: item.title for item in (*self.needs, *self.expectations)}


def _strings(raw: dict, field: str, where: str, *, minimum: int, maximum: int) -> tuple[str, ...]:
    values = raw.get(field)
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise FrameworkError(f"{where}: '{field}' must be a list of non-empty strings")
    if not minimum <= len(values) <= maximum:
        raise FrameworkError(f"{where}: '{field}' must have {minimum}-{maximum} entries, not {len(values)}")
    return tuple(v.strip() for v in values)


def _text(raw: dict, field: str, where: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise FrameworkError(f"{where}: '{field}' must be a non-empty string")
    return value.strip()


def parse(raw: dict) -> Framework:
    """Build a Framework from the dictionary of one language file, checking its shape."""
    meta = raw.get("meta", {})
    language = _text(meta, "language", "meta")
    themes = []
    for position, theme_raw in enumerate(raw.get("themes", []), start=1):
        theme_key = _text(theme_raw, "key", f"theme {position}")
        where = f"theme {theme_key}"
        needs = tuple(
            Need(
                key=f"{theme_key}.{_text(n, 'key', where)}",
                theme_key=theme_key,
                title=_text(n, "title", where),
                leader_text=_text(n, "leader_text", where),
                chief_text=_text(n, "chief_text", where),
            )
            for n in theme_raw.get("needs", [])
        )
        expectations = tuple(
            Expectation(
                key=f"{theme_key}.{_text(e, 'key', where)}",
                theme_key=theme_key,
                title=_text(e, "title", where),
                chief_text=_text(e, "chief_text", where),
                leader_text=_text(e, "leader_text", where),
            )
            for e in theme_raw.get("expectations", [])
        )
        if len(needs) != NEEDS_PER_THEME:
            raise FrameworkError(f"{where}: needs {NEEDS_PER_THEME} needs, has {len(needs)}")
        if len(expectations) != EXPECTATIONS_PER_THEME:
            raise FrameworkError(f"{where}: needs {EXPECTATIONS_PER_THEME} expectations, has {len(expectations)}")
        themes.append(
            Theme(
                key=theme_key,
                position=position,
                title=_text(theme_raw, "title", where),
                summary=_text(theme_raw, "summary", where),
                needs=needs,
                expectations=expectations,
                practices=_strings(theme_raw, "practices", where, minimum=3, maximum=3),
                risks=_strings(theme_raw, "risks", where, minimum=3, maximum=3),
                chief_practices=_strings(theme_raw, "chief_practices", where, minimum=3, maximum=5),
                dilemmas=_strings(theme_raw, "dilemmas", where, minimum=1, maximum=3),
                reflection_leaders=_strings(theme_raw, "reflection_leaders", where, minimum=3, maximum=3),
                reflection_chief=_strings(theme_raw, "reflection_chief", where, minimum=3, maximum=3),
            )
        )
    if len(themes) != 6:
        raise FrameworkError(f"the framework has six themes, this file has {len(themes)}")
    keys = [item.key for theme in themes for item in (*theme.needs, *theme.expectations)]
    if len(set(keys)) != len(keys):
        raise FrameworkError("item keys must be unique")
    differences = tuple(
        Difference(
            key=_text(d, "key", "differences"),
            title=_text(d, "title", "differences"),
            text=_text(d, "text", "differences"),
        )
        for d in raw.get("differences", [])
    )
    if len(differences) != 4:
        raise FrameworkError(f"the framework names four differences, this file has {len(differences)}")
    return Framework(
        version=_text(meta, "version", "meta"),
        language=language,
        title=_text(meta, "title", "meta"),
        credit=_text(meta, "credit", "meta"),
        differences=differences,
        themes=tuple(themes),
    )


def structure(framework: Framework) -> list[tuple[str, str, str]]:
    """The language-independent shape: (theme key, item key, kind) in order."""
    rows = []
    for theme in framework.themes:
        rows += [(theme.key, need.key, "need") for need in theme.needs]
        rows += [(theme.key, exp.key, "expectation") for exp in theme.expectations]
    return rows


def read_version(version: str = CURRENT_VERSION) -> dict[str, dict]:
    """Read the raw files of one version, checked to agree across languages."""
    folder = VERSIONS_DIR / version
    raw_by_language = {}
    for language in LANGUAGES:
        path = folder / f"{language}.toml"
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        framework = parse(raw)
        if framework.language != language or framework.version != version:
            raise FrameworkError(f"{path}: meta says {framework.version}/{framework.language}")
        raw_by_language[language] = raw
    shapes = {language: structure(parse(raw)) for language, raw in raw_by_language.items()}
    if len({json.dumps(shape) for shape in shapes.values()}) != 1:
        raise FrameworkError(f"version {version}: the languages do not have the same themes and items")
    theme_keys = {language: [t["key"] for t in raw["themes"]] for language, raw in raw_by_language.items()}
    if len({tuple(keys) for keys in theme_keys.values()}) != 1:
        raise FrameworkError(f"version {version}: the languages do not have the same themes")
    return raw_by_language


def checksum(content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def available_versions() -> list[str]:
    return sorted(p.name for p in VERSIONS_DIR.iterdir() if p.is_dir())


@cache
def load(version: str, language: str) -> Framework:
    """The framework files of a version in a language, parsed (Danish if the language is not there)."""
    raw = read_version(version)
    return parse(raw.get(language, raw[LANGUAGES[0]]))
