"""The synthetic bank's people: valid, and never two with the same resident ID number."""

from __future__ import annotations

import copy
import random
from datetime import date

from bankcrm.core.validation import parse_resident_id
from bankcrm.demo.bank import _resident_id

TODAY = date(2026, 11, 29)


def test_a_generated_resident_id_is_valid_and_names_an_adult_born_within_the_stated_age() -> None:
    rng = random.Random(3)
    for _ in range(200):
        number, age = _resident_id(rng, TODAY, set())
        born = parse_resident_id(number).birth_date
        years = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
        assert 20 <= years <= 88
        assert abs(years - age) <= 1  # the stated age counts 365-day years


def test_a_resident_id_already_given_out_is_never_given_again() -> None:
    rng = random.Random(11)
    first, _ = _resident_id(copy.deepcopy(rng), TODAY, set())
    issued = {first[:17]}
    again, _ = _resident_id(rng, TODAY, issued)  # the same draws would repeat the first number
    assert again != first
    assert again[:14] == first[:14]  # same person otherwise: region and birth date kept
    parse_resident_id(again)
    assert issued == {first[:17], again[:17]}
