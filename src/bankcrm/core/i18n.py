"""One message catalogue for every user-facing string (zh_CN default, English complete).

Message ids are English source strings with ``%(name)s`` placeholders. The catalogues are the
gettext ``.po`` files under ``bankcrm/locale``; they are read directly (no compile step), so a
translator edits one text file and restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from markupsafe import Markup

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
LOCALE_LABELS = {"zh_CN": "中文", "en": "English"}


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> Mapping[str, str]:
    """msgid -> translation for a locale; empty translations fall back to the msgid."""
    po_file = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_file.exists():
        return {}
    with po_file.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    messages: dict[str, str] = {}
    for message in parsed:
        if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            messages[message.id] = message.string
    return messages


def normalise_locale(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    value = value.replace("-", "_")
    if value in LOCALES:
        return value
    if value.lower().startswith("zh"):
        return "zh_CN"
    if value.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def translate(locale: str, message: str, params: Mapping[str, Any] | None = None) -> str:
    text = catalogue(locale).get(message, message)
    if params:
        try:
            return text % dict(params)
        except (KeyError, ValueError, TypeError):
            # A broken translation must never take a page down; fall back to the source string.
            return message % dict(params)
    return text


class Translator:
    """The per-request translation functions handed to templates and error renderers."""

    def __init__(self, locale: str) -> None:
        self.locale = normalise_locale(locale)

    def gettext(self, message: str, **params: Any) -> str:
        return translate(self.locale, message, params)

    def markup_gettext(self, message: str, **params: Any) -> Markup:
        """Template flavour: the catalogue text is trusted, parameters are escaped."""
        text = catalogue(self.locale).get(message, message)
        if params:
            return Markup(text) % params  # noqa: S704 - catalogue text is ours; params are escaped by %
        return Markup(text)  # noqa: S704 - catalogue text is ours
