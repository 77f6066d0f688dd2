"""The server's pings awaiting a pong, with Binance's rule, for every WebSocket the simulator serves.

A pong answers its ping and every older one; an unsolicited pong keeps nothing alive. The oldest
unanswered ping tells when a connection is overdue (``pong_timeout_s``).
"""

from __future__ import annotations

from aiohttp import web


class PingTracker:
    """Pings sent on one connection and not answered yet (payload -> monotonic send time, oldest first)."""

    def __init__(self) -> None:
        self._unanswered: dict[bytes, float] = {}
        self._seq = 0

    @property
    def oldest(self) -> float | None:
        """Send time of the oldest unanswered ping, or None."""
        return next(iter(self._unanswered.values()), None)

    def overdue(self, now: float, timeout_s: float) -> bool:
        oldest = self.oldest
        return oldest is not None and now - oldest >= timeout_s

    async def ping(self, ws: web.WebSocketResponse, now: float) -> bool:
        """Send the next ping; False when the connection is already gone."""
        self._seq += 1
        payload = str(self._seq).encode()
        try:
            await ws.ping(payload)
        except ConnectionError:
            return False
        self._unanswered[payload] = now
        return True

    def on_pong(self, payload: bytes) -> None:
        if payload not in self._unanswered:
            return
        for key in list(self._unanswered):
            del self._unanswered[key]
            if key == payload:
                break
