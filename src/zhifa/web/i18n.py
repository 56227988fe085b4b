"""The translation catalog: gettext ``.po`` files under ``zhifa/locale/<locale>/LC_MESSAGES/``.

Message ids are English; ``zh_CN`` (the default) translates them. Every ``.po`` file of a locale is
merged, so each domain keeps its own file. A missing translation falls back to the English id.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    """msgid → msgstr for one locale, from all of its .po files."""
    messages: dict[str, str] = {}
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id and message.string and not message.fuzzy:
                    messages[str(message.id)] = str(message.string)
    return messages


def normalise_locale(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    value = value.replace("-", "_")
    for locale in LOCALES:
        if value.lower() == locale.lower() or value.lower() == locale[:2].lower():
            return locale
    return DEFAULT_LOCALE


def translate(locale: str, message: str, **params: Any) -> str:
    """Translate ``message`` and fill its ``{name}`` placeholders from ``params``."""
    text = catalog(locale).get(message, message) if locale != "en" else message
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text
