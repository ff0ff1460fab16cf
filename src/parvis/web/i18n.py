"""Languages of the interface: Babel catalogues (read from the .po files at start-up, so no
compiled file is kept in the repository), the negotiation of the locale, localized dates."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

CATALOGUES = Path(__file__).with_name("i18n")
LOCALES = ("en", "fr")  # English is the source language: its catalogue is the identity
DEFAULT = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


@cache
def translations(locale: str) -> NullTranslations:
    """The catalogue of `locale` (English: the source strings themselves)."""
    po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def supported(tag: str | None) -> str | None:
    """`fr-CA` -> `fr`; None for a language the interface does not speak."""
    if not tag:
        return None
    base = tag.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else None


def negotiate(*, chosen: str | None, accept_language: str | None) -> str:
    """The user's own choice first (their setting, or the language switch for visitors),
    then the browser's Accept-Language in order of preference, then English."""
    own = supported(chosen)
    if own:
        return own
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        code = supported(tag)
        if code and q > 0:
            ranked.append((-q, i, code))
    return sorted(ranked)[0][2] if ranked else DEFAULT


@cache
def _babel(locale: str) -> Locale:
    return Locale.parse(locale)


def ago(moment: datetime, locale: str, now: datetime | None = None) -> str:
    """ "3 minutes ago" / "il y a 3 minutes"."""
    now = now or datetime.now(UTC)
    return format_timedelta(
        moment - now, add_direction=True, format="long", threshold=1.1, locale=_babel(locale)
    )


@lru_cache(maxsize=8192)
def when(moment: datetime, locale: str) -> str:
    """A full localized date and time, for the title of a <time> element (the same posts come
    back on every page: remembered)."""
    return format_datetime(moment, format="medium", locale=_babel(locale), tzinfo=UTC)
