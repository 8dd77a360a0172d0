from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bankcrm.core.config import get_settings
from bankcrm.core.logging import configure_logging, get_logger

SECRET = "S3cret-Passw0rd!-in-a-frame"


def _fail_with_a_secret_in_scope(password: str) -> None:
    raise RuntimeError("boom " + str(len(password)))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_error_logs_carry_the_traceback_but_no_local_variables(
    capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    configure_logging("INFO", json=as_json)
    log = get_logger("tests.logging")
    try:
        _fail_with_a_secret_in_scope(SECRET)
    except RuntimeError:
        log.exception("request.failed", request_id="r-1")
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "RuntimeError: boom" in text
    assert "_fail_with_a_secret_in_scope" in text
    assert SECRET not in text
    if as_json:
        line = next(line for line in text.splitlines() if "request.failed" in line)
        assert "RuntimeError" in json.loads(line)["exception"]
