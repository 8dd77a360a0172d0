"""Signing in over HTTP, and sampling several endpoints in turn against one server."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from bench.server import Server
from bench.stats import Summary

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Probe:
    label: str
    client: httpx.Client
    path: str
    variants: tuple[str, ...] = ()  # when given, round n requests variants[n % len(variants)]

    def path_for(self, round_no: int) -> str:
        return self.variants[round_no % len(self.variants)] if self.variants else self.path


@dataclass
class Timings:
    server: list[float] = field(default_factory=list)  # ms until the app returned
    ready: list[float] = field(default_factory=list)  # ms until the response headers were sent
    cpu: list[float] = field(default_factory=list)  # ms of server CPU time
    client: list[float] = field(default_factory=list)  # ms of the round trip seen by the client
    overlapped: int = 0  # requests that arrived while the previous one was still being worked on


@dataclass(frozen=True)
class Row:
    """One measured request kind, for the report."""

    budget: str
    label: str
    server: Summary
    ready: Summary | None = None
    cpu: Summary | None = None
    client: Summary | None = None
    overlapped: int = 0

    @classmethod
    def of(cls, budget: str, label: str, timings: Timings) -> Row:
        return cls(
            budget,
            label,
            Summary.of(timings.server),
            Summary.of(timings.ready),
            Summary.of(timings.cpu),
            Summary.of(timings.client),
            timings.overlapped,
        )


@dataclass(frozen=True)
class Verdict:
    """A budget's rule and what was measured; ``met`` is None when the run did not prove it either way
    (a budget stated for a size the run did not reach, whose projection is within it)."""

    budget: str
    rule: str
    measured: str
    met: bool | None


def login_form_csrf(client: httpx.Client) -> str:
    """Open the sign-in form (which sets the pre-session cookie) and read its CSRF token."""
    response = client.get("/login")
    response.raise_for_status()
    match = CSRF_INPUT.search(response.text)
    if match is None:
        raise RuntimeError("the sign-in form has no CSRF field")
    return match.group(1)


def post_login(client: httpx.Client, csrf: str, username: str, password: str) -> httpx.Response:
    response = client.post(
        "/login", data={"username": username, "password": password, "next": "/", "csrf_token": csrf}
    )
    if response.status_code != 303 or response.headers.get("location") != "/":
        raise RuntimeError(f"sign-in as {username} failed: {response.status_code}")
    return response


def sign_in(client: httpx.Client, username: str, password: str) -> None:
    post_login(client, login_form_csrf(client), username, password)


def sample(
    server: Server, probes: list[Probe], *, rounds: int, warmup: int, gap_ms: float = 0.0
) -> dict[str, Timings]:
    """Call every probe once per round, in turn, so drift hits all of them alike.

    Requests are sequential, so the server's records line up with the client's. ``gap_ms`` of
    idle time after each response lets after-response work finish before the next request.
    """
    server.take_timings()  # forget the requests made before this run
    timings = {probe.label: Timings() for probe in probes}
    sent: list[tuple[Probe, str, bool]] = []
    for round_no in range(warmup + rounds):
        kept = round_no >= warmup
        for probe in probes:
            path = probe.path_for(round_no)
            start = time.perf_counter()
            response = probe.client.get(path)
            elapsed = (time.perf_counter() - start) * 1e3
            if response.status_code != 200:
                raise RuntimeError(f"{probe.label}: HTTP {response.status_code} {response.text[:200]}")
            if kept:
                timings[probe.label].client.append(elapsed)
            sent.append((probe, path, kept))
            if gap_ms:
                time.sleep(gap_ms / 1e3)
    recorded = server.take_timings()
    if len(recorded) != len(sent):
        raise RuntimeError(f"server recorded {len(recorded)} requests, client sent {len(sent)}")
    previous_end = 0.0
    for (probe, path, kept), record in zip(sent, recorded, strict=True):
        if record.path != urlsplit(path).path:
            raise RuntimeError(f"server and client records are out of step at {record.path}")
        if kept:
            timings[probe.label].server.append(record.total_ms)
            timings[probe.label].ready.append(record.ready_ms)
            timings[probe.label].cpu.append(record.cpu_ms)
            timings[probe.label].overlapped += record.started < previous_end
        previous_end = record.ended
    return timings
