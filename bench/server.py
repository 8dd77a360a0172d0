"""The application under test: the real app in a real Uvicorn process, plus bench-only additions.

The additions exist only on this module's app instance, never in ``bankcrm``:

- ``ServerTimer``, an ASGI wrapper outside every middleware of the app, times each request on the
  server: from the moment Uvicorn hands it to the app until the app returns. That includes the
  commit, sending the body, and the writes the app does after the response (session touch, token
  last-use); the time until the response headers leave is kept as well.
- ``GET /api/v1/__bench/bare``, a bare FastAPI endpoint (the yardstick of budget b). It goes through
  the same middleware and app-wide dependencies as every route, and is a plain ``def`` like the API
  routes, so the comparison isolates authentication, database work and serialisation. It is the
  first route of the router that serves ``/api/v1/me`` and the users list, so it is matched at their
  depth: registered last on the app, Starlette matched some 170 routes before it (about 90 before the
  users list), which made the yardstick slower and flattered every ratio; registered first, it
  would have charged the API routes for routing the bare one skipped.
- ``GET /__bench/timings``, which hands the recorded timings to the client and forgets them.

Run as ``python -m bench.server --port N``; the options mirror ``bankcrm serve``.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bankcrm.core.config import get_settings
from bankcrm.main import create_app

ROOT = Path(__file__).resolve().parent.parent
BARE_PATH = "/api/v1/__bench/bare"
TIMINGS_PATH = "/__bench/timings"


@dataclass(frozen=True)
class ServerSample:
    method: str
    path: str
    status: int
    started: float  # perf_counter() of the server process, seconds
    ready_ms: float  # until the response headers were sent: routing, handler, rendering, commit
    total_ms: float  # until the app returned: also the body and the after-response writes
    cpu_ms: float  # CPU time of the whole server process meanwhile (requests never overlap)

    @property
    def ended(self) -> float:
        return self.started + self.total_ms / 1e3


class ServerTimer:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.samples: list[ServerSample] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == TIMINGS_PATH:
            await self.app(scope, receive, send)
            return
        start, cpu_start = time.perf_counter(), time.process_time()
        ready = 0.0
        status = 0

        async def timed_send(message: Message) -> None:
            nonlocal ready, status
            if message["type"] == "http.response.start":
                ready = time.perf_counter() - start
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            total, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            self.samples.append(
                ServerSample(
                    scope["method"], scope["path"], status, start, ready * 1e3, total * 1e3, cpu * 1e3
                )
            )


def create_bench_app() -> ServerTimer:
    app: FastAPI = create_app()
    timer = ServerTimer(app)

    def bare() -> dict[str, str]:
        return {"status": "ok"}

    _add_first_beside(app, bare, path=BARE_PATH, beside="/api/v1/me")

    @app.get(TIMINGS_PATH, include_in_schema=False)
    def timings() -> list[dict[str, Any]]:
        taken, timer.samples = timer.samples, []
        return [asdict(sample) for sample in taken]

    return timer


def _add_first_beside(app: FastAPI, endpoint: Callable[[], Any], *, path: str, beside: str) -> None:
    """Add a GET route for ``path`` as the first route of the included router that serves ``beside``."""
    router = next(router for router in _included_routers(app) if beside in _paths(router))
    router.add_api_route(path.removeprefix(router.prefix), endpoint, methods=["GET"], include_in_schema=False)
    router.routes.insert(0, router.routes.pop())


def _included_routers(app: FastAPI) -> list[APIRouter]:
    return [route.original_router for route in app.router.routes if hasattr(route, "original_router")]


def _paths(router: APIRouter) -> set[str]:
    return {str(getattr(route, "path", "")) for route in router.routes}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``python -m bench.server`` as a child process, from start-up until it is stopped."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self._env = {**env, "PYTHONPATH": str(ROOT)}
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bench.server", "--port", str(self.port)],
                cwd=self._workdir,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not start within 60 s; see {self.log_path}")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def take_timings(self) -> list[ServerSample]:
        response = httpx.get(self.base_url + TIMINGS_PATH, timeout=30)
        response.raise_for_status()
        # Sorted by arrival: a request's after-response work can make it finish after the next one.
        return sorted((ServerSample(**row) for row in response.json()), key=lambda row: row.started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "bench.server:create_bench_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        proxy_headers=False,
        log_level=get_settings().log_level.lower(),
    )


if __name__ == "__main__":
    main()
