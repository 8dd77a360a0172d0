"""Password policy: long enough, not common, not built from the user's own name.

Length matters more than composition rules (NIST SP 800-63B), so the policy asks for at least
12 characters and refuses passwords that are common words or patterns dressed up with digits.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from pathlib import Path

from bankcrm.core.errors import FieldProblem
from bankcrm.core.i18n import N_

MAX_LENGTH = 128
_COMMON_FILE = Path(__file__).resolve().parent / "common_passwords.txt"
_KEYBOARD_RUNS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(
        line.strip() for line in _COMMON_FILE.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def _is_repetition(value: str) -> bool:
    """'abcabcabcabc' or 'aaaaaaaaaaaa': a short unit repeated."""
    for size in range(1, len(value) // 2 + 1):
        if len(value) % size == 0 and value[:size] * (len(value) // size) == value:
            return True
    return False


def _is_keyboard_run(value: str) -> bool:
    """'123456789012', 'qwertyuiop', 'zyxwv': each character follows the previous one on a run."""
    if len(value) < 4:
        return False
    for run in _KEYBOARD_RUNS:
        for ordered in (run, run[::-1]):
            if all(
                a in ordered and ordered[(ordered.index(a) + 1) % len(ordered)] == b
                for a, b in itertools.pairwise(value)
            ):
                return True
    return False


def _core_forms(password: str) -> set[str]:
    """The password with decoration removed: case, trailing digits and symbols, leading symbols."""
    lowered = password.lower()
    stripped = re.sub(r"[\W_]+", "", lowered)
    without_digits = re.sub(r"\d+$", "", stripped)
    without_leading_digits = re.sub(r"^\d+", "", without_digits)
    return {lowered, stripped, without_digits, without_leading_digits} - {""}


def password_problems(
    password: str, *, min_length: int, username: str = "", display_name: str = "", field: str = "password"
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if len(password) < min_length:
        problems.append(
            FieldProblem(
                field,
                "password.min_length",
                N_("Use at least %(min)s characters."),
                params={"min": min_length},
            )
        )
        return problems
    if len(password) > MAX_LENGTH:
        problems.append(
            FieldProblem(
                field,
                "password.max_length",
                N_("Use at most %(max)s characters."),
                params={"max": MAX_LENGTH},
            )
        )
        return problems
    forms = _core_forms(password)
    common = common_passwords()
    if any(form in common or _is_repetition(form) or _is_keyboard_run(form) for form in forms):
        problems.append(
            FieldProblem(field, "password.common", N_("This password is too common or too easy to guess."))
        )
    elif len(set(password)) < 5:
        problems.append(FieldProblem(field, "password.variety", N_("Use at least 5 different characters.")))
    personal = {part.lower() for part in (username, display_name) if len(part) >= 3}
    if any(part in password.lower() for part in personal):
        problems.append(
            FieldProblem(
                field, "password.personal", N_("The password must not contain your username or name.")
            )
        )
    return problems
