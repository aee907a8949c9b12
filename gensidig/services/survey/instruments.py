"""Freeze the framework files into an Instrument the first time a version is used."""

from django.db import transaction

from gensidig import framework as fw
from gensidig.models import Instrument, Item
from gensidig.models.choices import SCALES_BY_ROLE_AND_KIND, ItemKind


def current_instrument(*, version: str = fw.CURRENT_VERSION) -> Instrument:
    """The Instrument for the framework files as they are now.

    Identity is the checksum of the content: editing a file makes a new Instrument for new
    rounds, and rounds already opened keep the one they were opened with.
    """
    content = fw.read_version(version)
    checksum = fw.checksum(content)
    existing = Instrument.objects.filter(checksum=checksum).first()
    if existing:
        return existing
    with transaction.atomic():
        instrument, created = Instrument.objects.get_or_create(
            checksum=checksum, defaults={"version": version, "content": content}
        )
        if created:
            shape = fw.structure(fw.parse(content[fw.LANGUAGES[0]]))
            Item.objects.bulk_create(
                Item(instrument=instrument, key=key, theme_key=theme_key, kind=ItemKind(kind), position=position)
                for position, (theme_key, key, kind) in enumerate(shape, start=1)
            )
    return instrument


_frameworks: dict[tuple[str, str], fw.Framework] = {}
_items: dict[tuple[int, str], dict[str, Item]] = {}


def framework_for(instrument: Instrument, language: str) -> fw.Framework:
    """The instrument's text in a language (Danish when the language is not carried).

    Parsed once per process: an instrument's content never changes once stored.
    """
    key = (instrument.checksum, language)
    if key not in _frameworks:
        # The cache is checked first, so hot paths can load instruments without their text.
        content = instrument.content
        _frameworks[key] = fw.parse(content[language if language in content else fw.LANGUAGES[0]])
    return _frameworks[key]


def items_by_key(instrument: Instrument) -> dict[str, Item]:
    """The instrument's items by key, read once per process: they never change after creation."""
    key = (instrument.pk, instrument.checksum)
    if key not in _items:
        _items[key] = {item.key: item for item in Item.objects.filter(instrument=instrument)}
    return _items[key]


CounterSlots = dict[tuple[str, str, str], int]
_slots: dict[tuple[int, str], CounterSlots] = {}


def counter_slots(instrument: Instrument) -> CounterSlots:
    """Number every counter row of a round of this instrument: (role, item key, scale) -> slot.

    The numbering depends only on the instrument, so counting a round's ballots at close adds
    into a plain list by slot and writes every counter row in one go.
    """
    key = (instrument.pk, instrument.checksum)
    if key not in _slots:
        slots = {}
        for item in sorted(items_by_key(instrument).values(), key=lambda item: item.position):
            for (role, kind), scales in SCALES_BY_ROLE_AND_KIND.items():
                if kind == item.kind:
                    for scale in scales:
                        slots[(role, item.key, scale)] = len(slots)
        _slots[key] = slots
    return _slots[key]


_instruments: dict[int, Instrument] = {}


def instrument_by_id(instrument_id: int) -> Instrument:
    """An instrument without its text (read once per process; instruments never change)."""
    if instrument_id not in _instruments:
        _instruments[instrument_id] = Instrument.objects.defer("content").get(pk=instrument_id)
    return _instruments[instrument_id]


def clear_caches() -> None:
    """Forget cached instruments (the test suite creates and drops databases under them)."""
    _frameworks.clear()
    _items.clear()
    _slots.clear()
    _instruments.clear()
