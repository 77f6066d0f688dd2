"""Fault state set through the control API, and the frames faults send.

Tests of reconnects and resyncs need the venue to misbehave on demand. Connection-level faults
live here: a stall (nothing is sent, not even pings, for N seconds; market frames produced
meanwhile are lost, as when a server hangs, while control replies and injected frames wait and go
out after it), a paused market, and the ``serverShutdown`` frames. The actions
on live connections (cut, inject, shutdown notice) are carried out by ``hub.Hub``; a skipped
depth sequence id is market state (``Market.request_skip``) because it hides a real book change.
"""

from __future__ import annotations

from collections import deque

import msgspec

from algo_common.binance.schemas import BinanceCombinedMessage, BinanceServerShutdown
from exchange_sim.encoding import encode

SERVER_SHUTDOWN_STREAM = "!serverShutdown"


class Faults:
    """Whether the market is paused, until when (monotonic seconds) connections are stalled, and the
    rate-limit answers (429 / 418 with ``Retry-After``) the next market-data REST requests get."""

    def __init__(self) -> None:
        self.paused = False
        self._stalled_until = 0.0
        self.frames_lost_in_stall = 0
        self._rest_failures: deque[tuple[int, int]] = deque()  # (HTTP status, Retry-After seconds)
        self.rest_failures_sent = 0

    def fail_rest(self, status: int, count: int, retry_after_s: int) -> None:
        """Answer the next ``count`` market-data REST requests with ``status`` (429 or 418)."""
        if status not in (418, 429) or count < 1 or retry_after_s < 0:
            raise ValueError("status must be 418 or 429, count >= 1, retry_after_s >= 0")
        self._rest_failures.extend([(status, retry_after_s)] * count)

    def take_rest_failure(self) -> tuple[int, int] | None:
        """The next queued rate-limit answer, if any (consumed)."""
        if not self._rest_failures:
            return None
        self.rest_failures_sent += 1
        return self._rest_failures.popleft()

    def stall(self, seconds: float, now: float) -> float:
        """Stall every connection for ``seconds`` from ``now`` (0 ends a stall); return its end."""
        if seconds < 0:
            raise ValueError("stall seconds must be >= 0")
        self._stalled_until = now + seconds
        return self._stalled_until

    def stall_remaining(self, now: float) -> float:
        """Seconds left in the current stall (0 when not stalled)."""
        return max(0.0, self._stalled_until - now)

    def is_stalled(self, now: float) -> bool:
        return now < self._stalled_until


def server_shutdown_frames(event_time_ms: int) -> tuple[bytes, bytes]:
    """``serverShutdown`` as a raw frame and as a combined-stream envelope."""
    raw = encode(BinanceServerShutdown(e="serverShutdown", E=event_time_ms))
    combined = encode(BinanceCombinedMessage(stream=SERVER_SHUTDOWN_STREAM, data=msgspec.Raw(raw)))
    return raw, combined
