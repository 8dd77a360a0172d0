"""C2 masking keeps the shape of the value (DOMAIN.md, UI.md)."""

from __future__ import annotations

import pytest

from bankcrm.core.masking import MaskKind, mask


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (MaskKind.ID_NUMBER, "110105194912310021", "110***********0021"),
        (MaskKind.CARD_NUMBER, "6222021234561234", "6222 **** **** 1234"),
        (MaskKind.CARD_NUMBER, "6222021234567891234", "6222 **** **** **** 1234"),
        (MaskKind.MOBILE, "13812345678", "138****5678"),
        (MaskKind.NAME, "张三", "张*"),
        (MaskKind.NAME, "欧阳娜娜", "欧阳**"),
        (MaskKind.NAME, "Zhang San", "Z**** S**"),
        (MaskKind.EMAIL, "zhang.san@bank.cn", "z***@bank.cn"),
        (MaskKind.ADDRESS, "北京市海淀区中关村大街1号", "北京市海淀区******"),
    ],
)
def test_masked_values_keep_their_shape(kind: MaskKind, value: str, masked: str) -> None:
    assert mask(kind, value) == masked


def test_none_stays_none() -> None:
    assert mask(MaskKind.MOBILE, None) is None


def test_short_values_are_fully_hidden() -> None:
    assert mask(MaskKind.MOBILE, "1234") == "****"
