"""Loaded only under `make test-weekdays` (its PYTHONPATH), in every Python process it starts.

With FAKETIME_DONT_FAKE_MONOTONIC, libfaketime 0.9.10 (Debian 12) makes ``time.sleep`` fail with
EINVAL (it mistranslates clock_nanosleep's absolute monotonic deadline), while the timed waits
of locks and events work. Without that option every timed wait of a lock lasts as long as the
offset. So the monotonic clock stays real, and ``time.sleep`` waits on an event instead."""

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    if seconds:
        threading.Event().wait(seconds)


time.sleep = _sleep
