"""Password policy: long, uncommon, not personal."""

from __future__ import annotations

import pytest

from bankcrm.identity.passwords import password_problems


def rules(password: str, **personal: str) -> list[str]:
    return [p.rule for p in password_problems(password, min_length=12, **personal)]


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short-pass", "password.min_length"),
        ("x" * 129, "password.max_length"),
        ("password1234", "password.common"),
        ("Password!2026", "password.common"),
        ("qwertyuiop12", "password.common"),
        ("123456789012", "password.common"),
        ("abcabcabcabc", "password.common"),
        ("aaaaaaaaaaaaaa", "password.common"),
        ("aabbccddaabd", "password.variety"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule(password: str, rule: str) -> None:
    assert rule in rules(password)


def test_password_containing_the_username_is_refused() -> None:
    assert "password.personal" in rules("zhangxiaoming-2026!", username="zhangxiaoming")


@pytest.mark.parametrize("password", ["Tea-garden-river-42", "长城饭店在北京2026年", "correct horse battery"])
def test_long_unusual_passwords_pass(password: str) -> None:
    assert rules(password, username="rm.zhang", display_name="张晓明") == []
