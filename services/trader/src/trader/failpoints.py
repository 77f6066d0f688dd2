"""Failpoints: a test hook that kills the process at a named step, to prove crash safety.

Like FoundationDB's and TiKV's failpoints: a crash-safety test starts the trader with
``TRADER_FAILPOINT=<step>``, the process dies with ``os._exit(137)`` (as if SIGKILLed: no
cleanup, no flush of anything but the log line) when it reaches that step, and the test checks
that a restarted trader ends with exactly one order and one fill per signal.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum

from algo_common.logging import get_logger

log = get_logger(__name__)
KILLED_EXIT_STATUS = 137


class Failpoint(StrEnum):
    NONE = "none"
    AFTER_READ = "after_read"
    """A signal entry was read from the stream; nothing was done with it."""
    AFTER_INTENT = "after_intent"
    """The order is stored as SUBMITTING; the venue was not called."""
    AFTER_SEND = "after_send"
    """The venue holds the order, its reply has not reached the executor (the venue triggers it)."""
    AFTER_ACK = "after_ack"
    """The venue answered (the order exists there); nothing of its answer is recorded."""
    AFTER_OUTCOME = "after_outcome"
    """The outcome transaction committed; the stream entry is not acknowledged."""
    BEFORE_ACK = "before_ack"
    """Everything is done but the XACK."""


class _Armed:
    fire_at_hit = 1
    hits = 0


_armed = _Armed()


def arm(hit: int) -> None:
    """Fire on the ``hit``-th time the configured step is reached (``TRADER_FAILPOINT_HIT``)."""
    _armed.fire_at_hit, _armed.hits = hit, 0


def trigger(configured: Failpoint, here: Failpoint) -> None:
    """Exit at once when ``here`` is the configured failpoint (at its armed hit); a no-op otherwise."""
    if configured is Failpoint.NONE or configured is not here:
        return
    _armed.hits += 1
    if _armed.hits < _armed.fire_at_hit:
        return
    log.warning("failpoint reached; exiting", failpoint=str(here))
    sys.stdout.flush()
    os._exit(KILLED_EXIT_STATUS)
