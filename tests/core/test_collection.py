"""Pausing the garbage collector for a loading job leaves it as it was found."""

from __future__ import annotations

import gc
import threading

import pytest

from bankcrm.core.collection import paused_garbage_collection


def test_the_collector_is_off_inside_and_on_again_after_nested_pauses_and_errors() -> None:
    assert gc.isenabled()
    with paused_garbage_collection():
        assert not gc.isenabled()
        with paused_garbage_collection():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the outer pause is still running"
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_garbage_collection():
        raise RuntimeError("a failed delivery")
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with paused_garbage_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_two_threads_end_with_the_collector_on() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with paused_garbage_collection():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with paused_garbage_collection():
        leave.set()
        thread.join(5)
        assert not gc.isenabled(), "the other thread's pause ended, this one has not"
    assert gc.isenabled()
