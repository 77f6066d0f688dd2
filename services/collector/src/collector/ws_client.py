"""One connection supervisor for the combined stream: connect, watch, reconnect with backoff.

:meth:`WsSupervisor.items` yields :class:`Connected`, then the connection's raw frames with their
receive time, then :class:`Disconnected`, and starts over until ``stop`` is set. The markers keep
frame order exact, so the consumer knows which frames follow a fresh connection (and needs a fresh
book snapshot). Keepalive: Binance pings every 20 s and wants a pong with the same payload within
a minute; ``websockets`` answers every ping frame with a pong carrying its payload by itself
(``Protocol.recv_frame``: "Upon receipt of a Ping frame, an endpoint MUST send a Pong"), as long as
frames are read, which the reader does without ever waiting on a database. The client sends no
pings of its own: the stall watchdog closes a socket that delivered no data for ``stall_timeout_s``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing, suppress
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from algo_common.clock import now_ms
from algo_common.logging import get_logger
from algo_common.retry import backoff_delay

log = get_logger(__name__)

CLOSE_TIMEOUT_S = 2.0
"""How long a graceful close may wait for the server's close frame."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message as received: raw bytes and our receive time (epoch ms)."""

    data: bytes
    ts_recv: int


@dataclass(frozen=True, slots=True)
class Connected:
    """A new connection is open; the frames that follow belong to it."""

    connection: int  # 1 for the first connection of this supervisor, then 2, 3, ...


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection ended; frames before this marker were its last ones."""

    reason: str


WsItem = Frame | Connected | Disconnected


def _noop() -> None:
    return None


class WsSupervisor:
    """Keeps one WebSocket to ``url`` open, reconnecting with capped, fully jittered backoff."""

    def __init__(
        self,
        url: str,
        *,
        stall_timeout_s: float,
        open_timeout_s: float,
        backoff_base_s: float,
        backoff_cap_s: float,
        on_reconnect: Callable[[], None] = _noop,
        beat: Callable[[], None] = _noop,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self._stall_timeout_s = stall_timeout_s
        self._open_timeout_s = open_timeout_s
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._on_reconnect = on_reconnect
        self._beat = beat
        self._rng = rng
        self._ws: ClientConnection | None = None
        self._close_reason = ""
        self._last_data = 0.0
        self.connections = 0
        self.reconnects = 0

    def request_reconnect(self, reason: str) -> None:
        """Drop the current connection after the frame being handled (e.g. on ``serverShutdown``)."""
        if self._ws is not None and not self._close_reason:
            self._close_reason = reason

    async def items(self, stop: asyncio.Event) -> AsyncGenerator[WsItem]:
        """Connection markers and frames until ``stop`` is set."""
        stopper = asyncio.create_task(self._close_on(stop), name="ws-stop")
        attempt, first = 0, True
        try:
            while not stop.is_set():
                if not first:
                    self.reconnects += 1
                    self._on_reconnect()
                first, delivered = False, False
                async with aclosing(self._one_connection(stop)) as connection:
                    async for item in connection:
                        delivered = delivered or isinstance(item, Frame)
                        yield item
                if stop.is_set():
                    break
                attempt = 0 if delivered else attempt + 1
                delay = backoff_delay(attempt, *self._backoff, rng=self._rng)
                log.info("ws reconnecting", delay_s=round(delay, 3), attempt=attempt)
                await self._wait(stop, delay)
        finally:
            stopper.cancel()

    async def _one_connection(self, stop: asyncio.Event) -> AsyncGenerator[WsItem]:
        """Connect, yield Connected + frames + Disconnected; a failed connect yields nothing."""
        self._close_reason, error, opened = "", "", False
        try:
            async with connect(
                self.url, open_timeout=self._open_timeout_s, close_timeout=CLOSE_TIMEOUT_S, ping_interval=None
            ) as ws:
                self._ws, opened = ws, True
                self.connections += 1
                log.info("ws connected", url=self.url, connection=self.connections, reconnects=self.reconnects)
                yield Connected(self.connections)
                async with aclosing(self._frames(ws, stop)) as frames:
                    async for frame in frames:
                        yield frame
        except ConnectionClosed as e:
            error = f"closed by peer ({e.rcvd.code if e.rcvd else 'no close frame'})"
        except (OSError, TimeoutError, WebSocketException) as e:
            error = f"{type(e).__name__}: {e}"
            if not opened:
                log.warning("ws connect failed", url=self.url, error=error)
        finally:
            self._ws = None
        if opened:  # every Connected is followed by exactly one Disconnected
            reason = self._close_reason or error or ("stop" if stop.is_set() else "ended")
            log.warning("ws disconnected", reason=reason, connection=self.connections)
            yield Disconnected(reason)

    async def _frames(self, ws: ClientConnection, stop: asyncio.Event) -> AsyncGenerator[Frame]:
        loop = asyncio.get_running_loop()
        self._last_data = loop.time()
        watchdog = asyncio.create_task(self._watch(ws), name="ws-watchdog")
        try:
            while not self._close_reason and not stop.is_set():
                data = await ws.recv(decode=False)
                self._last_data = loop.time()
                yield Frame(data, now_ms())
        finally:
            watchdog.cancel()

    async def _watch(self, ws: ClientConnection) -> None:
        """Abort a socket that delivered no data for ``stall_timeout_s`` (a graceful close could hang too)."""
        loop = asyncio.get_running_loop()
        period = min(1.0, self._stall_timeout_s / 4)
        while True:
            await asyncio.sleep(period)
            self._beat()
            silent_s = loop.time() - self._last_data
            if silent_s > self._stall_timeout_s:
                log.warning("ws stalled: closing", silent_s=round(silent_s, 3), stall_timeout_s=self._stall_timeout_s)
                self._close_reason = "stall"
                ws.transport.abort()
                return

    async def _close_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        if self._ws is not None:
            self._close_reason = self._close_reason or "stop"
            await self._ws.close()

    async def _wait(self, stop: asyncio.Event, delay_s: float) -> None:
        """Sleep ``delay_s`` unless ``stop`` is set first, beating so liveness holds during long backoffs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay_s
        while not stop.is_set() and (remaining := deadline - loop.time()) > 0:
            self._beat()
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(remaining, 1.0))
