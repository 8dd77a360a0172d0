"""Validators for Chinese banking identifiers (DOMAIN.md): resident ID, USCC, mobile, bank card.

Each validator returns the normalised value or raises ``IdentifierError`` naming the broken rule,
so callers can turn it into a field problem with field, value and rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bankcrm.core.i18n import N_

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE_PATTERN = re.compile(r"1[3-9]\d{9}")
_FULL_WIDTH_OFFSET = 0xFEE0


class IdentifierError(ValueError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    gender: str  # "M" or "F", derived from the sequence digit, never typed twice
    region_code: str


def to_half_width(value: str) -> str:
    """Full-width digits and letters (１２３ＡＢＣ) to their ASCII forms; ideographic space to space."""
    out = []
    for ch in value:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - _FULL_WIDTH_OFFSET))
        else:
            out.append(ch)
    return "".join(out)


def resident_id_check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    value = to_half_width(raw).strip().upper()
    if len(value) != 18:
        raise IdentifierError("id.length", N_("A resident ID number has 18 characters."))
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdentifierError(
            "id.characters", N_("A resident ID number is 17 digits followed by a digit or X.")
        )
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdentifierError(
            "id.birth_date", N_("The birth date inside the ID number is not a real date.")
        ) from exc
    if birth > (today or date.today()) or birth.year < 1900:  # noqa: DTZ011 - a business date
        raise IdentifierError("id.birth_date", N_("The birth date inside the ID number is out of range."))
    if resident_id_check_char(value[:17]) != value[17]:
        raise IdentifierError("id.checksum", N_("The check character of the ID number is wrong."))
    gender = "M" if int(value[16]) % 2 == 1 else "F"
    return ResidentId(number=value, birth_date=birth, gender=gender, region_code=value[:6])


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * weight for ch, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(raw: str) -> str:
    value = to_half_width(raw).strip().upper()
    if len(value) != 18:
        raise IdentifierError("uscc.length", N_("A unified social credit code has 18 characters."))
    if any(ch not in USCC_ALPHABET for ch in value):
        raise IdentifierError(
            "uscc.characters",
            N_("A unified social credit code uses digits and letters except I, O, S, V, Z."),
        )
    if uscc_check_char(value[:17]) != value[17]:
        raise IdentifierError(
            "uscc.checksum", N_("The check character of the unified social credit code is wrong.")
        )
    return value


def normalise_mobile(raw: str) -> str:
    """Strip +86/0086, spaces, dashes and full-width digits; then require ``1[3-9]`` and 11 digits."""
    value = re.sub(r"[\s\-()]", "", to_half_width(raw))
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    if value.startswith("86") and len(value) == 13:
        value = value[2:]
    if not MOBILE_PATTERN.fullmatch(value):
        raise IdentifierError("mobile.format", N_("A mainland mobile number is 11 digits starting 13-19."))
    return value


def luhn_is_valid(digits: str) -> bool:
    total = 0
    for index, ch in enumerate(reversed(digits)):
        digit = int(ch)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    for candidate in "0123456789":
        if luhn_is_valid(partial + candidate):
            return candidate
    raise AssertionError("unreachable: one of ten digits always satisfies Luhn")


def parse_card_number(raw: str) -> str:
    value = re.sub(r"[\s\-]", "", to_half_width(raw))
    if not value.isdigit() or not 16 <= len(value) <= 19:
        raise IdentifierError("card.format", N_("A bank card number has 16 to 19 digits."))
    if not luhn_is_valid(value):
        raise IdentifierError("card.checksum", N_("The bank card number fails the Luhn check."))
    return value


EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalise_email(raw: str) -> str:
    value = raw.strip().lower()
    if not EMAIL_PATTERN.fullmatch(value) or len(value) > 254:
        raise IdentifierError("email.format", N_("The e-mail address is not valid."))
    return value
