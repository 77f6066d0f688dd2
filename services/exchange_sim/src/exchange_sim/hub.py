"""Live connections, who listens to which stream, and fan-out of frames to them.

Broadcasting never awaits: each frame is offered to every subscriber's bounded queue. A payload
is encoded once per event and only if someone listens; the combined envelope once per stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import msgspec

from algo_common.binance.schemas import BinanceCombinedMessage
from exchange_sim.connection import WsConnection, WsStats
from exchange_sim.encoding import encode
from exchange_sim.faults import Faults

Publication = tuple[tuple[str, ...], object]
"""Stream names and the payload (a Struct, or ``msgspec.Raw`` of recorded bytes) they carry."""


class Hub:
    """All WebSocket connections of the simulator."""

    def __init__(self, faults: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = faults
        self.stats = WsStats()
        self.connections: dict[int, WsConnection] = {}
        self._by_stream: dict[str, set[WsConnection]] = {}
        self._clock = clock
        self._next_id = 1

    def next_id(self) -> int:
        conn_id = self._next_id
        self._next_id += 1
        return conn_id

    def register(self, conn: WsConnection) -> None:
        self.connections[conn.id] = conn
        self.stats.accepted_total += 1

    def unregister(self, conn: WsConnection) -> None:
        self.connections.pop(conn.id, None)

    # --- StreamIndex ----------------------------------------------------------------------------

    def add(self, conn: WsConnection, names: list[str]) -> None:
        for name in names:
            self._by_stream.setdefault(name, set()).add(conn)

    def remove(self, conn: WsConnection, names: list[str]) -> None:
        for name in names:
            listeners = self._by_stream.get(name)
            if listeners is not None:
                listeners.discard(conn)
                if not listeners:
                    del self._by_stream[name]

    # --- fan-out --------------------------------------------------------------------------------

    def publish(self, publications: Iterable[Publication]) -> int:
        """Queue each payload to its streams' listeners; return frames queued (0 while stalled)."""
        queued = 0
        stalled = self.faults.is_stalled(self._clock())
        for names, payload in publications:
            raw: bytes | None = None
            for name in names:
                listeners = self._by_stream.get(name)
                if not listeners:
                    continue
                if stalled:
                    self.faults.frames_lost_in_stall += len(listeners)
                    continue
                raw = raw if raw is not None else encode(payload)
                queued += self._offer_all(list(listeners), raw, _envelope(name, raw))
        return queued

    def send_to_all(self, raw: bytes, combined: bytes | None = None) -> int:
        """Queue a frame to every connection (``combined`` for those using envelopes, if given)."""
        return self._offer_all(list(self.connections.values()), raw, combined if combined is not None else raw)

    def cut(self) -> int:
        """Drop every connection at once, without a close frame; return how many."""
        conns = list(self.connections.values())
        for conn in conns:
            conn.abort("cut by control API")
        return len(conns)

    async def close_all(self) -> None:
        """Close every connection with 1001 going away (server shutdown)."""
        for conn in list(self.connections.values()):
            conn.request_close(1001, "Server shutting down")

    def _offer_all(self, conns: list[WsConnection], raw: bytes, combined: bytes) -> int:
        return sum(conn.offer(combined if conn.combined else raw) for conn in conns)


def _envelope(stream: str, raw: bytes) -> bytes:
    return encode(BinanceCombinedMessage(stream=stream, data=msgspec.Raw(raw)))
