"""A small in-process scheduler for the embedded default: periodic jobs on a daemon thread.

At bank scale the same job functions are started by the bank's own scheduler or workers; this one
exists so that `make run` on a laptop keeps daily work (such as effective-dated org moves) current.
Each run gets its own transaction; a failing job is logged and retried at its next interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from bankcrm.core.logging import get_logger

log = get_logger(__name__)


@dataclass
class Job:
    name: str
    every_seconds: float
    run: Callable[[], object]


@dataclass
class Scheduler:
    jobs: list[Job] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, name: str, every_seconds: float, run: Callable[[], object]) -> None:
        self.jobs.append(Job(name=name, every_seconds=every_seconds, run=run))

    def run_due(self, elapsed: dict[str, float], tick: float) -> None:
        for job in self.jobs:
            elapsed[job.name] = elapsed.get(job.name, job.every_seconds) + tick
            if elapsed[job.name] >= job.every_seconds:
                elapsed[job.name] = 0.0
                try:
                    result = job.run()
                    log.info("scheduler.job_done", job=job.name, result=result)
                except Exception:
                    log.exception("scheduler.job_failed", job=job.name)

    def start(self, *, tick: float = 30.0) -> None:
        if self._thread is not None or not self.jobs:
            return
        elapsed: dict[str, float] = {}

        def loop() -> None:
            self.run_due(elapsed, 0.0)  # every job runs once at start
            while not self._stop.wait(tick):
                self.run_due(elapsed, tick)

        self._thread = threading.Thread(target=loop, name="bankcrm-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
