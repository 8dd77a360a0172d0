"""Identifier rules of DOMAIN.md: each with passing and failing cases, checksums property-tested."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bankcrm.core.validation import (
    USCC_ALPHABET,
    IdentifierError,
    luhn_check_digit,
    luhn_is_valid,
    normalise_email,
    normalise_mobile,
    parse_card_number,
    parse_resident_id,
    parse_uscc,
    resident_id_check_char,
    to_half_width,
    uscc_check_char,
)

VALID_ID = "11010519491231002X"  # the worked example of GB 11643-1999


def make_resident_id(region: str, birth: date, sequence: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def test_standard_example_id_is_valid_and_derives_birth_date_and_gender() -> None:
    parsed = parse_resident_id(VALID_ID)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "F"  # sequence 002 is even
    assert parsed.region_code == "110105"


def test_lower_case_x_and_full_width_digits_are_normalised() -> None:
    assert parse_resident_id("１１０１０５１９４９１２３１００２x").number == VALID_ID


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("11010519491231002", "id.length"),
        ("1101051949123100AX", "id.characters"),
        ("110105194902300027", "id.birth_date"),  # 30 February
        ("110105219901010011", "id.birth_date"),  # born in 2199
        ("110105194912310021", "id.checksum"),
    ],
)
def test_invalid_resident_ids_name_the_broken_rule(raw: str, rule: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_resident_id(raw)
    assert caught.value.rule == rule


@given(
    region=st.from_regex(r"[1-6][0-9]{5}", fullmatch=True),
    birth=st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_generated_resident_ids_validate_and_carry_their_gender(
    region: str, birth: date, sequence: int
) -> None:
    parsed = parse_resident_id(make_resident_id(region, birth, sequence))
    assert parsed.birth_date == birth
    assert parsed.gender == ("M" if sequence % 2 else "F")


@given(
    birth=st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_breaks_the_id_checksum(birth: date, position: int, delta: int) -> None:
    number = make_resident_id("310104", birth, 123)
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(IdentifierError):
        parse_resident_id(changed)


VALID_USCC = "91350100M000100Y43"  # a published example code


def test_published_uscc_example_is_valid() -> None:
    assert parse_uscc(VALID_USCC) == VALID_USCC


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("91350100M000100Y4", "uscc.length"),
        ("91350100M000100YI3", "uscc.characters"),  # I is not in the alphabet
        ("91350100M000100Y44", "uscc.checksum"),
    ],
)
def test_invalid_usccs_name_the_broken_rule(raw: str, rule: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_uscc(raw)
    assert caught.value.rule == rule


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_generated_usccs_validate(first17: str) -> None:
    code = first17 + uscc_check_char(first17)
    assert parse_uscc(code.lower()) == code


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 30))
def test_any_single_character_change_breaks_the_uscc_checksum(
    first17: str, position: int, shift: int
) -> None:
    code = first17 + uscc_check_char(first17)
    replaced = USCC_ALPHABET[(USCC_ALPHABET.index(code[position]) + shift) % 31]
    with pytest.raises(IdentifierError):
        parse_uscc(code[:position] + replaced + code[position + 1 :])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
    ],
)
def test_mobile_numbers_are_stored_normalised(raw: str, expected: str) -> None:
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "abc", ""])
def test_invalid_mobile_numbers_are_refused(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_mobile(raw)
    assert caught.value.rule == "mobile.format"


def test_card_numbers_with_spaces_pass_luhn_and_are_stored_as_digits() -> None:
    card = "622202020000000000" + luhn_check_digit("622202020000000000")
    assert luhn_is_valid(card)
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert parse_card_number(spaced) == card


@given(st.from_regex(r"[1-9][0-9]{14,17}", fullmatch=True))
def test_generated_card_numbers_pass_and_a_changed_digit_fails(partial: str) -> None:
    card = partial + luhn_check_digit(partial)
    assert parse_card_number(card) == card
    broken = card[:-1] + str((int(card[-1]) + 1) % 10)
    with pytest.raises(IdentifierError) as caught:
        parse_card_number(broken)
    assert caught.value.rule == "card.checksum"


@given(st.from_regex(r"[0-9]{1,19}", fullmatch=True))
def test_luhn_check_digit_is_the_one_digit_of_ten_that_passes(partial: str) -> None:
    passing = [candidate for candidate in "0123456789" if luhn_is_valid(partial + candidate)]
    assert passing == [luhn_check_digit(partial)]


@pytest.mark.parametrize("raw", ["123456789012345", "12345678901234567890", "6222abcd00000000"])
def test_card_numbers_of_wrong_length_or_characters_are_refused(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        parse_card_number(raw)
    assert caught.value.rule == "card.format"


def test_email_is_lower_cased_and_invalid_addresses_refused() -> None:
    assert normalise_email(" Zhang.San@Bank.CN ") == "zhang.san@bank.cn"
    with pytest.raises(IdentifierError):
        normalise_email("zhang@bank")


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFFFF), max_size=30))
def test_half_width_changes_exactly_the_full_width_forms_and_the_ideographic_space(text: str) -> None:
    def one(ch: str) -> str:
        if ch == "\u3000":
            return " "
        return chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch

    assert to_half_width(text) == "".join(one(ch) for ch in text)


def test_full_width_text_becomes_half_width() -> None:
    assert to_half_width("ＡＢＣ１２３　ｘ") == "ABC123 x"
