from __future__ import annotations

import json
import logging
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


def test_the_access_log_keeps_the_path_but_not_the_search_in_the_query() -> None:
    configure_logging("INFO")
    access = logging.getLogger("uvicorn.access")
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/customers?q=13812345678", "1.1", 200),
        None,
    )
    assert access.filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /customers HTTP/1.1" 200'
