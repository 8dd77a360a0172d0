"""Name readings for the search keys: the per-character fast path reads names exactly as pypinyin does."""

from __future__ import annotations

import random

from pypinyin import Style, pinyin

from bankcrm.customers import keys
from bankcrm.demo.bank import GIVEN, SURNAMES, random_name


def _pypinyin(name: str) -> list[str]:
    return [item[0] for item in pinyin(name, style=Style.NORMAL, errors="ignore") if item]


def test_names_are_read_character_by_character_exactly_as_pypinyin_reads_the_whole_name() -> None:
    two = [surname + given for surname in SURNAMES for given in GIVEN]
    rng = random.Random(3)
    generated = [random_name(rng) for _ in range(3000)]
    # Words in pypinyin's phrase dictionary read characters by their neighbours (长 in 长城).
    phrases = ["王子", "长城", "重庆", "高强", "朱红", "单于", "曾经", "银行"]
    mixed = ["张Li", "李 明", "王3伟", "Ｗang伟", "欧阳娜娜", "北京科技宁宁有限公司"]
    for name in [*two, *generated, *phrases, *mixed]:
        assert keys._syllables(name) == _pypinyin(name), name


def test_a_polyphonic_surname_is_indexed_under_both_readings() -> None:
    assert {"p:cengwei", "p:zengwei", "i:cw", "i:zw"} <= keys.name_keys("曾伟")


def _former_surname(name: str) -> str | None:
    """How the surname used to be found: the first entry of the table the name starts with."""
    for surname in keys.SURNAME_READINGS:
        if name.startswith(surname):
            return surname
    return None


def test_the_surname_is_the_first_entry_of_the_table_the_name_starts_with() -> None:
    surnames = list(keys.SURNAME_READINGS)
    names = [*surnames, *(s + "伟" for s in surnames), *(s + "于" for s in surnames), "单于伟", "长孙无忌"]
    names += ["令狐冲", "尉迟恭", "万俟卨", "张伟", "李", "", "Li Wei", "欧阳娜娜"]
    for name in names:
        assert keys._surname_of(name) == _former_surname(name), name
    assert "p:shanyuwei" in keys.name_keys("单于伟")  # 单 comes before 单于 in the table
