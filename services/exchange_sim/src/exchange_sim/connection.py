"""One client WebSocket, kept alive and limited the way Binance does.

Each connection has a bounded send queue drained by its own writer task, so a slow client never
blocks the market or other clients; when the queue overflows the connection is dropped, as
Binance drops slow consumers. The server pings every ``ping_interval_s`` with a payload and aborts
the connection if the matching pong is ``pong_timeout_s`` late; after ``max_connection_s`` it closes
it. More than ``max_incoming_per_s`` incoming frames (text, ping, pong) in one second closes it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from exchange_sim.control import handle_control
from exchange_sim.faults import Faults
from exchange_sim.pings import PingTracker

log = structlog.get_logger(__name__)

STALL_POLL_S = 0.05
"""How often a stalled connection checks whether the stall was ended early."""


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Binance's per-connection rules (defaults: 20 s pings, 60 s pong deadline, 24 h, 5 msg/s, 1024)."""

    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    max_connection_s: float = 86_400.0
    max_incoming_per_s: int = 5
    max_streams: int = 1024
    send_queue_size: int = 10_000


@dataclass(slots=True)
class WsStats:
    """Counters over all connections, shown by ``GET /_sim/state``."""

    accepted_total: int = 0
    pings_sent: int = 0
    pongs_received: int = 0
    frames_sent: int = 0
    dropped_slow: int = 0
    closed_rate_limit: int = 0
    closed_pong_timeout: int = 0
    closed_lifetime: int = 0


class StreamIndex(Protocol):
    """Who listens to which stream (kept by the hub for broadcasting)."""

    def add(self, conn: WsConnection, names: list[str]) -> None: ...

    def remove(self, conn: WsConnection, names: list[str]) -> None: ...


class WsConnection:
    """A client connection: its subscriptions, send queue and keepalive."""

    def __init__(
        self,
        conn_id: int,
        ws: web.WebSocketResponse,
        request: web.Request,
        *,
        combined: bool,
        limits: ConnectionLimits,
        faults: Faults,
        index: StreamIndex,
        stats: WsStats,
    ) -> None:
        self.id = conn_id
        self.ws = ws
        self.combined = combined
        self.closed = False
        self._request = request
        self._limits = limits
        self._faults = faults
        self._index = index
        self._stats = stats
        self._subs: dict[str, None] = {}
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=limits.send_queue_size)
        self._incoming: deque[float] = deque()
        self._pings = PingTracker()
        self._closer: asyncio.Task[bool] | None = None
        self._writer: asyncio.Task[None] | None = None
        self.opened_at = time.monotonic()

    # --- ControlSession -------------------------------------------------------------------------

    def subscriptions(self) -> list[str]:
        return list(self._subs)

    def subscribe(self, names: list[str]) -> str | None:
        new = [name for name in dict.fromkeys(names) if name not in self._subs]
        if len(self._subs) + len(new) > self._limits.max_streams:
            return f"too many streams, at most {self._limits.max_streams} per connection"
        self._subs.update(dict.fromkeys(new))
        self._index.add(self, new)
        return None

    def unsubscribe(self, names: list[str]) -> None:
        gone = [name for name in dict.fromkeys(names) if name in self._subs]
        for name in gone:
            del self._subs[name]
        self._index.remove(self, gone)

    # --- sending --------------------------------------------------------------------------------

    def offer(self, frame: bytes) -> bool:
        """Queue a text frame without waiting; drop the connection if its queue is full."""
        if self.closed:
            return False
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self._stats.dropped_slow += 1
            self.abort("send queue overflow (slow consumer)")
            return False
        return True

    def abort(self, reason: str) -> None:
        """Drop the TCP connection without a close handshake (a cut, a dead or slow client)."""
        if self.closed:
            return
        self.closed = True
        log.info("ws_abort", conn=self.id, reason=reason)
        if self._request.transport is not None:
            self._request.transport.abort()

    def request_close(self, code: int, reason: str) -> None:
        """Start a close handshake from another task; the handler waits for it to finish."""
        if self.closed or self._closer is not None:
            return
        log.info("ws_close", conn=self.id, code=code, reason=reason)
        self._closer = asyncio.create_task(self.ws.close(code=code, message=reason.encode()))

    # --- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until either side ends it."""
        self._writer = asyncio.create_task(self._write_loop())
        tasks = [self._writer, asyncio.create_task(self._keepalive_loop())]
        try:
            await self._read_loop()
        finally:
            self.closed = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._index.remove(self, list(self._subs))
            if self._closer is not None:
                await asyncio.gather(self._closer, return_exceptions=True)
            elif not self.ws.closed:
                await self.ws.close()

    async def _read_loop(self) -> None:
        async for msg in self.ws:
            if not self._within_rate(time.monotonic()):
                self._stats.closed_rate_limit += 1
                log.info("ws_close", conn=self.id, reason="too many incoming messages")
                await self._flush()  # replies to the messages within the limit still go out
                await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Too many requests")
                return
            if msg.type is WSMsgType.TEXT:
                self.offer(handle_control(msg.data, self))
            elif msg.type is WSMsgType.PING:
                await self.ws.pong(bytes(msg.data))
            elif msg.type is WSMsgType.PONG:
                self._on_pong(bytes(msg.data))
            elif msg.type is WSMsgType.ERROR:
                return

    async def _flush(self) -> None:
        """Stop the writer and send what it had queued, in order."""
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        try:
            while not self._queue.empty():
                await self.ws.send_frame(self._queue.get_nowait(), WSMsgType.TEXT)
        except ConnectionError:
            return

    async def _write_loop(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                # A stall can be ended or extended at any time: re-check it often.
                while (remaining := self._faults.stall_remaining(time.monotonic())) > 0:  # noqa: ASYNC110
                    await asyncio.sleep(min(remaining, STALL_POLL_S))
                await self.ws.send_frame(frame, WSMsgType.TEXT)
                self._stats.frames_sent += 1
        except ConnectionError:
            self.abort("write failed")

    async def _keepalive_loop(self) -> None:
        limits = self._limits
        next_ping = self.opened_at + limits.ping_interval_s
        while True:
            now = time.monotonic()
            if now - self.opened_at >= limits.max_connection_s:
                self._stats.closed_lifetime += 1
                self.request_close(WSCloseCode.OK, "Connection lifetime exceeded")
                return
            if self._pings.overdue(now, limits.pong_timeout_s):
                self._stats.closed_pong_timeout += 1
                self.abort("no pong within pong timeout")
                return
            stall = self._faults.stall_remaining(now)
            if stall > 0:  # a stalled server does not ping either; re-check soon, it may end early
                next_ping = max(next_ping, now + min(stall, STALL_POLL_S))
            elif now >= next_ping:
                await self._ping(now)
                next_ping = now + limits.ping_interval_s
            deadlines = [self.opened_at + limits.max_connection_s, next_ping]
            oldest = self._pings.oldest
            if oldest is not None:
                deadlines.append(oldest + limits.pong_timeout_s)
            await asyncio.sleep(max(0.0, min(deadlines) - time.monotonic()))

    async def _ping(self, now: float) -> None:
        if await self._pings.ping(self.ws, now):
            self._stats.pings_sent += 1

    def _on_pong(self, payload: bytes) -> None:
        """A pong answers its ping and every older one; unsolicited pongs keep nothing alive."""
        self._stats.pongs_received += 1
        self._pings.on_pong(payload)

    def _within_rate(self, now: float) -> bool:
        self._incoming.append(now)
        while self._incoming and now - self._incoming[0] >= 1.0:
            self._incoming.popleft()
        return len(self._incoming) <= self._limits.max_incoming_per_s
