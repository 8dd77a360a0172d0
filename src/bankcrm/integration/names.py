"""Readings of personal names, so one name compares equal across scripts, spellings and orders.

Chinese names reach the bank in characters (张伟民), in passport spelling (ZHANG WEIMIN) and in
Western order (Weimin Zhang). Comparing their pinyin reading, letters only, makes the first two
equal; comparing the reading's parts regardless of order makes the third equal too.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import lazy_pinyin

LETTERS = re.compile(r"[^a-z]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PART_SEPARATORS = re.compile(r"[\s,，、·•.]+")
# Two-character surnames: without them 欧阳修 would split into 欧 + 阳修 and never meet OUYANG XIU.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
    }
)


def name_reading(name: str) -> str | None:
    """Letters only, lower case: 张伟民, ZHANG WEIMIN and Zhang Weimin all read "zhangweimin"."""
    return LETTERS.sub("", "".join(lazy_pinyin(name)).lower()) or None


def without_accents(text: str) -> str:
    """José → Jose: the letters-only reading would otherwise drop the accented letter altogether."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_parts(name: str) -> list[str]:
    """The name's parts as readings: surname and given name for a name in characters, the words of
    a name in Latin letters (a hyphen joins, as in Wei-Min)."""
    text = name.strip()
    if _HAN.search(text) and not _PART_SEPARATORS.search(text):
        surname_length = 2 if text[:2] in COMPOUND_SURNAMES else 1
        parts = [text[:surname_length], text[surname_length:]]
    else:
        parts = _PART_SEPARATORS.split(text)
    readings = (name_reading(without_accents(part)) for part in parts)
    return [reading for reading in readings if reading]


def order_free_reading(parts: list[str]) -> str | None:
    """The parts in alphabetical order, so "Wei Zhang", "ZHANG WEI" and 张伟 read alike."""
    return "".join(sorted(parts)) or None
