"""The in-process scheduler runs each job at start and then at its interval; failures do not stop it."""

from __future__ import annotations

from bankcrm.core.scheduler import Scheduler


def test_jobs_run_at_start_then_at_their_interval() -> None:
    runs: list[str] = []
    scheduler = Scheduler()
    scheduler.add("hourly", 3600, lambda: runs.append("hourly"))
    scheduler.add("minutely", 60, lambda: runs.append("minutely"))
    elapsed: dict[str, float] = {}
    scheduler.run_due(elapsed, 0)
    assert runs == ["hourly", "minutely"]
    for _ in range(4):
        scheduler.run_due(elapsed, 30)
    assert runs.count("minutely") == 3
    assert runs.count("hourly") == 1


def test_a_failing_job_does_not_stop_the_others() -> None:
    runs: list[str] = []
    scheduler = Scheduler()

    def broken() -> None:
        raise RuntimeError("database away")

    scheduler.add("broken", 10, broken)
    scheduler.add("fine", 10, lambda: runs.append("fine"))
    scheduler.run_due({}, 0)
    assert runs == ["fine"]


def test_start_and_stop_a_real_thread() -> None:
    ran: list[int] = []
    scheduler = Scheduler()
    scheduler.add("once", 3600, lambda: ran.append(1))
    scheduler.start(tick=0.01)
    scheduler.stop()
    assert ran == [1]
