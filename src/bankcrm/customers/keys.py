"""Search keys: how a customer can be found, and how a typed query maps onto those keys.

Pure functions, no database: the service stores the keys, the repository range-scans them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, pinyin
from pypinyin.constants import PHRASES_DICT

from bankcrm.core.validation import to_half_width

CJK = re.compile(r"[\u3400-\u9fff]")
_SEPARATORS = re.compile(r"[\s·•．.\-_]+")
# Surnames read differently from the character's everyday reading (曾 zeng, not ceng). The name is
# indexed under both, so staff find the customer however they spell it.
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "盖": "ge",
    "乐": "yue",
    "覃": "qin",
    "翟": "zhai",
    "缪": "miao",
    "繁": "po",
    "员": "yun",
    "褚": "chu",
    "宿": "su",
    "冼": "xian",
    "种": "chong",
    "句": "gou",
    "隗": "wei",
    "召": "shao",
    "郇": "huan",
    "蕃": "pi",
    "薄": "bo",
    "华": "hua",
    "重": "chong",
    "殷": "yin",
    "折": "she",
    "秘": "bi",
    "尉": "yu",
    "万": "wan",
    "长": "zhang",
    "阚": "kan",
    "令狐": "linghu",
    "尉迟": "yuchi",
    "万俟": "moqi",
    "长孙": "zhangsun",
    "单于": "chanyu",
}


@dataclass(frozen=True)
class QueryPart:
    """One way to read the user's query: a key prefix and whether it is an exact or prefix match."""

    key: str
    exact: bool


def normalise_name(name: str) -> str:
    return _SEPARATORS.sub("", to_half_width(name)).lower()


_ALL_CJK = re.compile(r"[\u3400-\u9fff]+")


@functools.cache  # at most the ~27,000 characters of the CJK blocks above
def _character_reading(character: str) -> str | None:
    items = pinyin(character, style=Style.NORMAL, errors="ignore")
    return items[0][0] if items and items[0] else None


def _has_phrase(name: str) -> bool:
    """Whether pypinyin knows a word of two or more characters inside ``name``."""
    return any(
        name[start:end] in PHRASES_DICT
        for start in range(len(name))
        for end in range(start + 2, len(name) + 1)
    )


def _syllables(name: str) -> list[str]:
    """pypinyin's everyday reading of each character of ``name``.

    pypinyin reads a character by its own entry unless it is part of a word in its phrase
    dictionary; so a name of Chinese characters without such a word is read character by
    character from a cache, 20 times faster than reading the whole name (tested to agree).
    """
    if _ALL_CJK.fullmatch(name) and not _has_phrase(name):
        return [reading for reading in map(_character_reading, name) if reading]
    return [item[0] for item in pinyin(name, style=Style.NORMAL, errors="ignore") if item]


_SURNAME_ORDER = {surname: position for position, surname in enumerate(SURNAME_READINGS)}


def _surname_of(name: str) -> str | None:
    """The first entry of SURNAME_READINGS, in its order, that ``name`` starts with: a surname has
    one or two characters, so only the name's first one and first two can be one."""
    found = [prefix for prefix in (name[:1], name[:2]) if prefix in _SURNAME_ORDER]
    return min(found, key=_SURNAME_ORDER.__getitem__) if found else None


@functools.lru_cache(maxsize=1 << 16)  # a bank's names repeat: read each once per process
def _spellings(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Full pinyin and initials: the everyday reading, plus the surname reading where it differs."""
    syllables = _syllables(name)
    if not syllables:
        return (), ()
    full = ["".join(syllables).lower()]
    initials = ["".join(s[0] for s in syllables).lower()]
    surname = _surname_of(name)
    if surname is not None:
        reading = SURNAME_READINGS[surname]
        rest = syllables[len(surname) :]
        full.append((reading + "".join(rest)).lower())
        initials.append((reading[0] + "".join(s[0] for s in rest)).lower())
    return tuple(full), tuple(initials)


def name_keys(name: str) -> set[str]:
    clean = normalise_name(name)
    if not clean:
        return set()
    keys = {f"n:{clean}"}
    if CJK.search(clean):
        full, initials = _spellings(clean)
        keys |= {f"p:{spelling}" for spelling in full if spelling}
        keys |= {f"i:{letters}" for letters in initials if letters}
    return keys


def source_number_key(number: str) -> str:
    """The key a customer is found by under one of its source systems' customer numbers."""
    return f"x:{number.lower()}"[:120]


def customer_keys(
    *,
    name: str,
    name_en: str | None,
    mobile: str | None,
    id_digest: str,
    customer_no: str,
    source_numbers: Iterable[str] = (),
    account_numbers: Iterable[str] = (),
) -> set[str]:
    keys = name_keys(name)
    if name_en:
        keys |= {f"n:{normalise_name(name_en)}"}
    if mobile:
        keys |= {f"m:{mobile}", f"l:{mobile[-4:]}"}
    keys.add(f"d:{id_digest}")
    keys.add(f"c:{customer_no.lower()}")
    keys |= {source_number_key(number) for number in source_numbers}
    keys |= {f"a:{number}" for number in account_numbers}
    return {key[:120] for key in keys}


ID_LIKE = re.compile(r"^\d{17}[\dXx]$|^\d{15}$|^[0-9A-HJ-NPQRTUWXY]{18}$")
DIGITS = re.compile(r"^\d+$")
LAST4_WITH_NAME = re.compile(r"^(?P<name>.*?\D)\s*(?P<digits>\d{4})$|^(?P<digits2>\d{4})\s*(?P<name2>\D.*)$")


@dataclass(frozen=True)
class ParsedQuery:
    """What the search box was given, read every plausible way.

    ``alternatives`` are OR-ed; ``last4`` (with a name) narrows the name alternatives.
    ``id_number`` asks the caller to look up the keyed hash of a normalised ID.
    """

    alternatives: tuple[QueryPart, ...]
    id_number: str | None = None
    last4: str | None = None


def parse_query(raw: str) -> ParsedQuery:
    text = to_half_width(raw).strip()
    compact = re.sub(r"[\s\-]", "", text)
    if not compact:
        return ParsedQuery(alternatives=())
    last4 = LAST4_WITH_NAME.match(text)
    if last4 and not DIGITS.match(compact):
        name = (last4.group("name") or last4.group("name2") or "").strip()
        digits = last4.group("digits") or last4.group("digits2")
        if name:
            return ParsedQuery(alternatives=_name_parts(name), last4=digits)
    alternatives: list[QueryPart] = [
        QueryPart(f"c:{compact.lower()}", exact=True),
        QueryPart(f"x:{compact.lower()}", exact=True),
    ]
    id_number = None
    if ID_LIKE.match(compact.upper()):
        id_number = compact.upper()
    if DIGITS.match(compact):
        if len(compact) == 11 and compact.startswith("1"):
            alternatives.append(QueryPart(f"m:{compact}", exact=True))
        if len(compact) == 4:
            alternatives.append(QueryPart(f"l:{compact}", exact=True))
        if len(compact) >= 10:
            alternatives.append(QueryPart(f"a:{compact}", exact=True))
        return ParsedQuery(alternatives=tuple(alternatives), id_number=id_number)
    alternatives.extend(_name_parts(text))
    return ParsedQuery(alternatives=tuple(alternatives), id_number=id_number)


NAME_KINDS = ("n:", "p:", "i:")  # name, full pinyin, initials


def whole_names_only(parts: Iterable[QueryPart]) -> list[QueryPart]:
    """``parts`` with every name, pinyin or initials part matched whole instead of as a prefix."""
    return [QueryPart(p.key, exact=True) if p.key.startswith(NAME_KINDS) else p for p in parts]


def _name_parts(text: str) -> tuple[QueryPart, ...]:
    clean = normalise_name(text)
    if not clean:
        return ()
    parts = [QueryPart(f"n:{clean}", exact=False)]
    if not CJK.search(clean) and clean.isalpha():
        parts.append(QueryPart(f"p:{clean}", exact=False))
        if len(clean) <= 5:
            parts.append(QueryPart(f"i:{clean}", exact=False))
    return tuple(parts)
