"""Budget (c): signing in with the production argon2id cost takes 100-500 ms.

The server runs with the defaults of ``Settings`` (no argon2 variable is set), and the demo user
signing in was hashed at that cost; the stored hash's parameters are reported as evidence.
"""

from __future__ import annotations

import time

import httpx

from bankcrm.core.config import Settings
from bankcrm.core.db import create_database
from bankcrm.core.security import Argon2Cost, PasswordHashing
from bankcrm.demo.seed import DEMO_PASSWORD
from bankcrm.identity.service.users import find_user_by_username
from bankcrm.web.security import SESSION_COOKIE
from bench.harness import Row, Timings, Verdict, login_form_csrf, post_login
from bench.server import Server
from bench.stats import Summary

BUDGET_MS = (100.0, 500.0)
USER = "rm.zhang"


def stored_hash(settings: Settings, username: str) -> str:
    database = create_database(settings)
    with database.transaction(write=False) as session:
        user = find_user_by_username(session, username)
        assert user is not None
        assert user.password_hash is not None
        value = user.password_hash
    database.dispose()
    return value


def argon2_verify_ms(settings: Settings, password_hash: str, *, samples: int) -> list[float]:
    """The password check alone, in this process, at the cost the settings give."""
    hashing = PasswordHashing(
        Argon2Cost(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    )
    timings = []
    for _ in range(samples):
        start = time.perf_counter()
        assert hashing.verify(password_hash, DEMO_PASSWORD)
        timings.append((time.perf_counter() - start) * 1e3)
    return timings


def hash_parameters(settings: Settings) -> str:
    """The argon2 parameters of the signing-in user's stored hash, e.g. ``m=65536,t=3,p=2``."""
    return stored_hash(settings, USER).split("$")[3]  # $argon2id$v=19$m=65536,t=3,p=2$salt$hash


def run(server: Server, settings: Settings, *, samples: int, warmup: int) -> tuple[list[Row], list[Verdict]]:
    password_hash = stored_hash(settings, USER)
    timings = Timings()
    with httpx.Client(base_url=server.base_url, timeout=30) as browser:
        csrf = login_form_csrf(browser)
        server.take_timings()
        for attempt in range(warmup + samples):
            start = time.perf_counter()
            post_login(browser, csrf, USER, DEMO_PASSWORD)
            if attempt >= warmup:
                timings.client.append((time.perf_counter() - start) * 1e3)
            browser.cookies.delete(SESSION_COOKIE)  # sign in afresh, not as a replacement session
        posts = [record for record in server.take_timings() if record.method == "POST"][warmup:]
    timings.server = [record.total_ms for record in posts]
    timings.ready = [record.ready_ms for record in posts]
    timings.cpu = [record.cpu_ms for record in posts]
    login_row = Row.of("c", f"POST /login ({USER})", timings)
    verify_row = Row(
        "c",
        "argon2id verify alone (in-process)",
        Summary.of(argon2_verify_ms(settings, password_hash, samples=max(10, samples // 2))),
    )
    low, high = BUDGET_MS
    verdict = Verdict(
        "c",
        f"sign-in server time between {low:g} and {high:g} ms (p50 ≥ {low:g}, p95 ≤ {high:g})",
        f"p50 {login_row.server.p50:.0f} ms, p95 {login_row.server.p95:.0f} ms",
        login_row.server.p50 >= low and login_row.server.p95 <= high,
    )
    return [login_row, verify_row], [verdict]
