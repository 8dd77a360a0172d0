"""Validators for Chinese banking identifiers (DOMAIN.md): resident ID, USCC, mobile, bank card.

Each validator returns the normalised value or raises ``IdentifierError`` naming the broken rule,
so callers can turn it into a field problem with field, value and rule.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from bankcrm.core.formatting import business_today
from bankcrm.core.i18n import N_

# Record ids are BIGINT keys (SQLite INTEGER): a larger number can name no record, and the
# database drivers refuse to bind it, so ids are validated against this bound at the edge.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_only(value: object) -> object:
    # Pydantic's lax mode also reads numbers and number-like text ("0") as Unix timestamps, so
    # a typo would silently become 1970-01-01; dates arrive as YYYY-MM-DD or not at all.
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PydanticCustomError("date_parsing", "Input should be a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def raw_length_at_most(limit: int) -> BeforeValidator:
    """The length limit of text that is also stripped, checked on the text as sent: stripping
    first would let 501 characters through a documented limit of 500."""

    def check(value: object) -> object:
        if isinstance(value, str) and len(value) > limit:
            raise PydanticCustomError(
                "string_too_long", "String should have at most {max_length} characters", {"max_length": limit}
            )
        return value

    return BeforeValidator(check)


# Control characters other than tab and line breaks belong in no field of the CRM, and PostgreSQL
# refuses NUL in text outright (the same input would pass on SQLite and fail at the bank).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # for query parameters, documented in OpenAPI


def without_control_characters(value: str) -> str:
    return CONTROL_CHARACTERS.sub("", value)


class StrictInput(BaseModel):
    """Base of every input model: an unknown field is an error (a typo is not a no-op), values
    must have the JSON type the schema documents (``true`` is not an id, ``"7"`` not a number),
    text is bounded, and no text field carries control characters.

    HTML forms post text only; ``web.forms.parse_form`` validates them with coercion instead.
    """

    model_config = ConfigDict(extra="forbid", str_max_length=2000, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        if any(isinstance(text, str) and CONTROL_CHARACTERS.search(text) for text in texts):
            raise PydanticCustomError("string_control_characters", "Text must not contain control characters")
        return value


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
MOBILE_PATTERN = re.compile(r"1[3-9][0-9]{9}")  # [0-9], not \d: \d also matches ٣ and other digits
_FULL_WIDTH_OFFSET = 0xFEE0


def parse_row_id(raw: str | None) -> int | None:
    """A record id typed as text (query string, form field), or None when it cannot be one."""
    value = (raw or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ROW_ID else None


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


def _ascii_digits(value: str) -> bool:
    """str.isdigit() alone also accepts '²' (which int() refuses) and '٣' (which it reads as 3)."""
    return value.isascii() and value.isdigit()


_HALF_WIDTH = {0x3000: " ", **{code: chr(code - _FULL_WIDTH_OFFSET) for code in range(0xFF01, 0xFF5F)}}


def to_half_width(value: str) -> str:
    """Full-width digits and letters (１２３ＡＢＣ) to their ASCII forms; ideographic space to space."""
    # Called for most fields of every delivered record: a table in C, not a loop per character.
    return value if value.isascii() else value.translate(_HALF_WIDTH)


def resident_id_check_char(first17: str) -> str:
    if len(first17) != len(ID_WEIGHTS):
        raise ValueError(f"a resident ID check character needs 17 digits, not {len(first17)}")
    total = sum(map(operator.mul, map(int, first17), ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    value = to_half_width(raw).strip().upper()
    if len(value) != 18:
        raise IdentifierError("id.length", N_("A resident ID number has 18 characters."))
    if not _ascii_digits(value[:17]) or not (_ascii_digits(value[17]) or value[17] == "X"):
        raise IdentifierError(
            "id.characters", N_("A resident ID number is 17 digits followed by a digit or X.")
        )
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise IdentifierError(
            "id.birth_date", N_("The birth date inside the ID number is not a real date.")
        ) from exc
    if birth > (today or business_today()) or birth.year < 1900:
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
    """The digit that makes ``partial + digit`` pass Luhn, computed in one pass over ``partial``.

    Once the check digit is appended, the last digit of ``partial`` is the first one doubled, so
    doubling starts there; the check digit brings the sum up to a multiple of ten. (Trying all ten
    candidates costs ten passes, a noticeable share of generating a million accounts.)
    """
    total = 0
    for index, ch in enumerate(reversed(partial)):
        digit = int(ch)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str(-total % 10)


def parse_card_number(raw: str) -> str:
    value = re.sub(r"[\s\-]", "", to_half_width(raw))
    if not _ascii_digits(value) or not 16 <= len(value) <= 19:
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
