"""How long something ran, as the batch pages show it, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bankcrm.core.i18n import Translator
from bankcrm.web.render import _duration

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "english", "chinese"),
    [
        (0.04, "0.0 s", "0.0 秒"),
        (12.34, "12.3 s", "12.3 秒"),
        (65, "1 min 05 s", "1 分 05 秒"),
        (3599.6, "1 h 00 min", "1 小时 00 分"),
        (3725, "1 h 02 min", "1 小时 02 分"),
    ],
)
def test_a_duration_reads_in_the_units_that_fit_it(seconds: float, english: str, chinese: str) -> None:
    end = START + timedelta(seconds=seconds)
    assert _duration(START, end, Translator("en")) == english
    assert _duration(START, end, Translator("zh_CN")) == chinese


def test_something_still_running_has_no_duration() -> None:
    assert _duration(START, None, Translator("en")) == "—"
