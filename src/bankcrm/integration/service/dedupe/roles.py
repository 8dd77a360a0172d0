"""What each column of a user's file means (its role), and the standardised values compared.

A role names what a column holds; several roles can feed one compared field (given name and
surname make one name). Values are standardised so that spelling noise does not count as
disagreement: full-width digits, +86 prefixes, capital letters in e-mails, date formats,
traditional characters, and names written in characters, in passport spelling or in either order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache

import opencc

from bankcrm.core.validation import IdentifierError, normalise_mobile, to_half_width
from bankcrm.integration.names import name_parts, name_reading, order_free_reading, without_accents
from bankcrm.integration.service.dedupe.tables import DedupeInputError

NAME_ROLES = ("full_name", "given_name", "surname")
ROLES = (*NAME_ROLES, "birth_date", "id_number", "phone", "email", "address", "city", "postcode")
# The field each role is compared as; the name's readings travel with it.
FIELD_OF_ROLE = {role: "name" if role in NAME_ROLES else role for role in ROLES}
FIELDS = tuple(dict.fromkeys(FIELD_OF_ROLE.values()))
NAME_READINGS = ("name_reading", "name_key")

_SPACES = re.compile(r"\s+")
_NON_DIGITS = re.compile(r"\D")
_ID_NOISE = re.compile(r"[\s\-]")
_DATE_SEPARATORS = re.compile(r"[./年月]")
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
MIN_PHONE_DIGITS = 5  # anything shorter is an extension or a placeholder, not a number to match on

Standardiser = Callable[[str], str | None]


def parse_role_columns(options: list[str], *, option: str = "--column") -> dict[str, str]:
    """``ROLE=COLUMN`` options as a role → column mapping, refusing anything ambiguous."""
    columns: dict[str, str] = {}
    for text in options:
        role, equals, column = text.partition("=")
        role, column = role.strip(), column.strip()
        if not equals or not role or not column:
            raise DedupeInputError(f"{option} expects ROLE=COLUMN, got {text!r}.")
        if role not in ROLES:
            raise DedupeInputError(
                f"Unknown role {role!r} in {option} {text}; roles are: {', '.join(ROLES)}."
            )
        if role in columns:
            raise DedupeInputError(
                f"The role {role} is given twice in {option} ({columns[role]} and {column})."
            )
        columns[role] = column
    return columns


def columns_for_second_file(columns: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    """The first file's roles with the second file's own column names laid over them. Naming any
    part of the name for the second file replaces the whole name: one file may hold a full name
    where the other splits it."""
    if any(role in overrides for role in NAME_ROLES):
        columns = {role: column for role, column in columns.items() if role not in NAME_ROLES}
    return {**columns, **overrides}


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def clean_text(value: str) -> str:
    """Half-width, simplified characters, single spaces, lower case."""
    text = _SPACES.sub(" ", to_half_width(value)).strip()
    return str(_to_simplified().convert(text)).lower()


def standard_date(value: str) -> str | None:
    """ISO date from the usual ways of writing one year first: 1990-01-02, 1990/1/2, 1990年1月2日,
    19900102, or an export's midnight timestamp. Day-first dates are ambiguous and left unread."""
    text = _DATE_SEPARATORS.sub("-", to_half_width(value).strip()).removesuffix("日").rstrip("-")
    parts = text.split(" ", 1)[0].split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        text = "-".join((parts[0], parts[1].zfill(2), parts[2].zfill(2)))
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
        return parsed.isoformat() if date(1900, 1, 1) <= parsed else None
    return None


def standard_phone(value: str) -> str | None:
    """An 11-digit mainland mobile where it is one (+86, spaces, full-width digits removed);
    otherwise the digits, so a landline still compares with itself."""
    try:
        return normalise_mobile(value)
    except IdentifierError:
        digits = _NON_DIGITS.sub("", to_half_width(value))
        return digits if len(digits) >= MIN_PHONE_DIGITS else None


def standard_email(value: str) -> str | None:
    text = to_half_width(value).strip().lower()
    return text if "@" in text.strip("@") else None


def standard_id_number(value: str) -> str | None:
    return _ID_NOISE.sub("", to_half_width(value)).upper() or None


def standard_address(value: str) -> str | None:
    # Spaces inside an address vary by who typed it; Chinese addresses have none to begin with.
    return _SPACES.sub("", clean_text(value)).replace("，", ",") or None


def standard_city(value: str) -> str | None:
    return standard_address(value.strip().removesuffix("市")) or None


def standard_postcode(value: str) -> str | None:
    return _SPACES.sub("", to_half_width(value)).upper() or None


STANDARDISERS: dict[str, Standardiser] = {
    "birth_date": standard_date,
    "id_number": standard_id_number,
    "phone": standard_phone,
    "email": standard_email,
    "address": standard_address,
    "city": standard_city,
    "postcode": standard_postcode,
}


def name_fields(full_name: str, given_name: str, surname: str) -> dict[str, str | None]:
    """The name as written and its two readings. Given name and surname, when a file splits them,
    are read surname first (the Chinese order) and also in either order, so "Wei Zhang", 张伟 and
    ZHANG WEI meet."""
    full = clean_text(full_name)
    given, family = clean_text(given_name), clean_text(surname)
    if not full and (given or family):
        if _has_han(given + family):
            full = family + given
        else:
            full = " ".join(part for part in (given, family) if part)
        parts = [reading for reading in (_reading(family), _reading(given)) if reading]
    else:
        parts = name_parts(full)
    if not full:
        return {"name": None, "name_reading": None, "name_key": None}
    ordered = "".join(parts) if not full_name.strip() else _reading(full)
    return {"name": full, "name_reading": ordered or None, "name_key": order_free_reading(parts)}


def _reading(text: str) -> str | None:
    return name_reading(without_accents(text))


def _has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def standardise(raw: dict[str, str], columns: dict[str, str]) -> tuple[dict[str, str | None], list[str]]:
    """The compared fields of one record, and the roles whose non-blank value could not be read."""
    fields: dict[str, str | None] = {}
    unreadable: list[str] = []
    if any(role in columns for role in NAME_ROLES):
        fields.update(
            name_fields(*(raw.get(columns[role], "") if role in columns else "" for role in NAME_ROLES))
        )
    for role, standardiser in STANDARDISERS.items():
        if role not in columns:
            continue
        value = raw.get(columns[role], "")
        fields[role] = standardiser(value) if value.strip() else None
        if value.strip() and fields[role] is None:
            unreadable.append(role)
    return fields, unreadable


def compared_fields(columns: dict[str, str]) -> list[str]:
    """The fields compared for these roles, in a fixed order."""
    present = {FIELD_OF_ROLE[role] for role in columns}
    return [field for field in FIELDS if field in present]
