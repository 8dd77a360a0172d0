"""Masking of personal financial information (JR/T 0171-2020 class C2) for display and logs.

Masked values keep their shape, so staff can still recognise "the mobile ending 5678"
without seeing the number: ``138****5678``, ``110***********1234``, ``6222 **** **** 1234``, ``张*``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class DataClass(enum.StrEnum):
    """Personal financial information classes; the CRM never stores C3."""

    C1 = "C1"  # internal use: opening date, branch
    C2 = "C2"  # identifies a person or shows their finances: ID, card, mobile, balances
    C3 = "C3"  # authentication data: passwords, PINs, CVV, track data - refused at every entrance


class MaskKind(enum.StrEnum):
    ID_NUMBER = "id_number"
    CARD_NUMBER = "card_number"
    MOBILE = "mobile"
    NAME = "name"
    EMAIL = "email"
    ADDRESS = "address"
    ACCOUNT_NUMBER = "account_number"
    GENERIC = "generic"


def mask_id_number(value: str) -> str:
    """Keep the region prefix and the last four: ``110***********1234``."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_card_number(value: str) -> str:
    """First four and last four, grouped as printed on the card: ``6222 **** **** 1234``."""
    digits = value.replace(" ", "")
    if len(digits) <= 8:
        return "*" * len(digits)
    hidden_groups = ["****"] * ((len(digits) - 8 + 3) // 4)
    return " ".join([digits[:4], *hidden_groups, digits[-4:]])


def mask_account_number(value: str) -> str:
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_mobile(value: str) -> str:
    """``138****5678`` for mainland numbers; other lengths keep the first three and last four."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """Chinese names keep the surname (``张*``, ``欧阳**``); Latin names keep initials."""
    value = value.strip()
    if not value:
        return value
    if any("\u4e00" <= ch <= "\u9fff" for ch in value):
        keep = 2 if len(value) >= 4 else 1  # four-character names usually carry a two-character surname
        return value[:keep] + "*" * (len(value) - keep)
    return " ".join(part[0] + "*" * (len(part) - 1) for part in value.split())


def mask_email(value: str) -> str:
    local, sep, domain = value.partition("@")
    if not sep:
        return mask_generic(value)
    return (local[:1] + "***" if local else "***") + "@" + domain


def mask_address(value: str) -> str:
    """Keep the first six characters (province and city), hide the rest."""
    if len(value) <= 6:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * 6


def mask_generic(value: str) -> str:
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


_MASKERS: dict[MaskKind, Callable[[str], str]] = {
    MaskKind.ID_NUMBER: mask_id_number,
    MaskKind.CARD_NUMBER: mask_card_number,
    MaskKind.ACCOUNT_NUMBER: mask_account_number,
    MaskKind.MOBILE: mask_mobile,
    MaskKind.NAME: mask_name,
    MaskKind.EMAIL: mask_email,
    MaskKind.ADDRESS: mask_address,
    MaskKind.GENERIC: mask_generic,
}


def mask(kind: MaskKind, value: str | None) -> str | None:
    if value is None:
        return None
    return _MASKERS[kind](value)


@dataclass(frozen=True)
class SensitiveValue:
    """A C2 value on its way to a page: the masked text, and where to ask for the clear one.

    ``reveal_url`` is set only when the viewer may unmask; the clear value itself never travels
    with this object, it is fetched through the audited unmask flow.
    """

    masked: str
    field: str
    reveal_url: str | None = None

    def __str__(self) -> str:
        return self.masked
