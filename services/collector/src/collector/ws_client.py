"""One connection supervisor for the combined stream: connect, watch, rotate, reconnect with backoff.

:meth:`WsSupervisor.items` yields :class:`Connected`, then the connection's raw frames with their
receive time, and :class:`Disconnected` when the connection fails, and starts over until ``stop``.

Planned replacements never lose a frame: when the connection reaches ``rotate_after_s`` (Binance
cuts every connection at 24 h) or the venue announces ``serverShutdown`` (:meth:`request_rotation`),
a new connection is opened FIRST; for ``overlap_s`` the old one is still read while the new one's
frames are kept; then ``Connected(rotated=True)`` is yielded, the old socket is closed and the
kept frames follow. The overlap repeats some events: the consumer drops them by id (trade id,
kline time, depth update id). If the new connection cannot be opened, the old one is kept and
the rotation is retried with backoff.

Keepalive: Binance pings every 20 s and wants a pong with the same payload within a minute;
picows (:mod:`collector.ws_socket`) answers every ping frame with a pong carrying its payload as
it parses the socket's bytes, and the reader never waits on a database. The client sends no
control messages of its own (streams are named in the URL), so it stays far below Binance's
5 incoming messages per second. A stall watchdog aborts a socket silent for ``stall_timeout_s``.
Connection attempts go through :class:`AttemptWindow` (Binance: 300 per 5 minutes per IP).
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import AsyncGenerator, Callable
from contextlib import suppress
from dataclasses import dataclass

from algo_common.logging import get_logger
from algo_common.retry import backoff_delay
from collector.ws_socket import OPEN_ERRORS, Frame, SocketClosed, WsSocket

__all__ = ["AttemptWindow", "Connected", "Disconnected", "Frame", "WsItem", "WsSupervisor"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Connected:
    """A new connection is open; the frames that follow belong to it.

    ``rotated``: it replaced a healthy connection that was read until this one's frames flowed, so
    nothing was missed (the local books stay valid); otherwise it follows a failure.
    """

    connection: int  # 1 for the first connection of this supervisor, then 2, 3, ...
    rotated: bool = False


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection failed; frames before this marker were its last ones."""

    reason: str


WsItem = Frame | Connected | Disconnected


def _noop() -> None:
    return None


class AttemptWindow:
    """At most ``max_attempts`` connection attempts in any ``window_s`` seconds (sliding window)."""

    def __init__(self, max_attempts: int, window_s: float) -> None:
        self._max = max_attempts
        self._window_s = window_s
        self._times: deque[float] = deque()

    def delay(self, now: float) -> float:
        """Seconds to wait before the next attempt may start (0: now)."""
        while self._times and now - self._times[0] >= self._window_s:
            self._times.popleft()
        if len(self._times) < self._max:
            return 0.0
        return self._times[0] + self._window_s - now

    def record(self, now: float) -> None:
        self._times.append(now)


class _Rotate(Exception):
    """Internal: the current connection is due for replacement."""


class WsSupervisor:
    """Keeps one WebSocket to ``url`` open, rotating it before the venue cuts it."""

    def __init__(
        self,
        url: str,
        *,
        stall_timeout_s: float,
        open_timeout_s: float,
        backoff_base_s: float,
        backoff_cap_s: float,
        rotate_after_s: float = 85_800.0,
        overlap_s: float = 1.0,
        attempts: AttemptWindow | None = None,
        on_reconnect: Callable[[], None] = _noop,
        on_rotation: Callable[[str], None] = lambda _: None,
        beat: Callable[[], None] = _noop,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self._stall_timeout_s = stall_timeout_s
        self._open_timeout_s = open_timeout_s
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._rotate_after_s = rotate_after_s
        self._overlap_s = overlap_s
        self._attempts = attempts or AttemptWindow(300, 300.0)
        self._on_reconnect = on_reconnect
        self._on_rotation = on_rotation
        self._beat = beat
        self._rng = rng
        self._ws: WsSocket | None = None
        self._closers: set[asyncio.Task[None]] = set()
        self._close_reason = ""
        self._rotate_reason = ""
        self._rotate_at = 0.0
        self._last_data = 0.0
        self.connections = 0
        self.reconnects = 0
        self.rotations = 0

    def request_rotation(self, reason: str) -> None:
        """Replace the current connection after the frame being handled (e.g. on ``serverShutdown``)."""
        if self._ws is not None and not self._rotate_reason:
            self._rotate_reason = reason

    async def items(self, stop: asyncio.Event) -> AsyncGenerator[WsItem]:
        """Connection markers and frames until ``stop`` is set."""
        stopper = asyncio.create_task(self._close_on(stop), name="ws-stop")
        attempt, first = 0, True
        try:
            while not stop.is_set():
                if not first:
                    self.reconnects += 1
                    self._on_reconnect()
                first = False
                ws = await self._open(stop)
                delivered = False
                if ws is not None:
                    self.connections += 1
                    yield Connected(self.connections)
                    gen = self._serve(ws, stop)
                    try:
                        async for item in gen:
                            delivered = delivered or isinstance(item, Frame)
                            yield item
                    finally:
                        await gen.aclose()
                if stop.is_set():
                    break
                attempt = 0 if delivered else attempt + 1
                delay = backoff_delay(attempt, *self._backoff, rng=self._rng)
                log.info("ws reconnecting", delay_s=round(delay, 3), attempt=attempt)
                await self._wait(stop, delay)
        finally:
            stopper.cancel()
            if self._ws is not None:
                self._ws.abort()
                self._ws = None

    async def _open(self, stop: asyncio.Event) -> WsSocket | None:
        """One connection attempt (after the attempt window allows it); None when it failed or ``stop``."""
        loop = asyncio.get_running_loop()
        while (wait_s := self._attempts.delay(loop.time())) > 0 and not stop.is_set():
            log.warning("ws connection attempts at their limit: waiting", wait_s=round(wait_s, 3))
            await self._wait(stop, wait_s)
        if stop.is_set():
            return None
        self._attempts.record(loop.time())
        try:
            ws = await WsSocket.open(self.url, self._open_timeout_s)
        except OPEN_ERRORS as e:
            log.warning("ws connect failed", url=self.url, error=f"{type(e).__name__}: {e}")
            return None
        log.info("ws connected", url=self.url, connection=self.connections + 1, reconnects=self.reconnects)
        return ws

    async def _serve(self, ws: WsSocket, stop: asyncio.Event) -> AsyncGenerator[WsItem]:
        """Frames of ``ws`` and of its successors (rotations) until one fails: then Disconnected."""
        loop = asyncio.get_running_loop()
        self._ws, self._close_reason, self._rotate_reason = ws, "", ""
        self._rotate_at = loop.time() + self._rotate_after_s
        current, error = ws, ""
        try:
            while not stop.is_set():
                try:
                    async for frame in self._frames(current, stop):
                        yield frame
                except _Rotate:
                    successor = await self._open(stop)
                    if successor is None:
                        self._rotate_at = loop.time() + backoff_delay(0, *self._backoff, rng=self._rng) + 1.0
                        self._rotate_reason = ""
                        log.warning("rotation postponed: keeping the current connection")
                        continue
                    async for item in self._switch(current, successor, stop):
                        yield item
                    if self._ws is successor:
                        current = successor
                    continue
                break
        except SocketClosed as e:
            error = e.reason
        except OSError as e:
            error = f"{type(e).__name__}: {e}"
        finally:
            self._ws = None
            if stop.is_set():
                await current.close()
            else:
                current.abort()
        reason = self._close_reason or error or ("stop" if stop.is_set() else "ended")
        log.warning("ws disconnected", reason=reason, connection=self.connections)
        yield Disconnected(reason)

    async def _frames(self, ws: WsSocket, stop: asyncio.Event) -> AsyncGenerator[Frame]:
        """Frames until the connection fails (raises) or a rotation is due (raises :class:`_Rotate`)."""
        loop = asyncio.get_running_loop()
        self._last_data = loop.time()
        watchdog = asyncio.create_task(self._watch(ws), name="ws-watchdog")
        near = self._rotate_at - self._stall_timeout_s
        try:
            while not self._close_reason and not stop.is_set():
                if self._rotate_reason:
                    raise _Rotate
                if loop.time() < near:  # the watchdog bounds a silent recv well before the rotation is due
                    frame = await ws.recv()
                else:
                    try:
                        async with asyncio.timeout_at(self._rotate_at):
                            frame = await ws.recv()
                    except TimeoutError:
                        if loop.time() < self._rotate_at:
                            raise
                        self._rotate_reason = "lifetime"
                        continue
                self._last_data = loop.time()
                yield frame
        finally:
            watchdog.cancel()

    async def _switch(self, old: WsSocket, new: WsSocket, stop: asyncio.Event) -> AsyncGenerator[WsItem]:
        """Read ``old`` for ``overlap_s`` while keeping ``new``'s frames; then hand over to ``new``."""
        loop = asyncio.get_running_loop()
        reason = self._rotate_reason or "lifetime"
        kept: list[Frame] = []
        keeper = asyncio.create_task(_keep(new, kept), name="ws-rotation-keeper")
        deadline = loop.time() + self._overlap_s
        try:
            while not stop.is_set() and loop.time() < deadline and not keeper.done():
                try:
                    async with asyncio.timeout_at(deadline):
                        frame = await old.recv()
                except (TimeoutError, SocketClosed, OSError):
                    break  # the old one ended early: the new one has everything since it opened
                yield frame
        finally:
            failed = keeper.done() and not keeper.cancelled() and keeper.exception() is not None
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
        if failed:  # the new connection died during the overlap: keep the old one, try again later
            new.abort()
            self._rotate_at = loop.time() + backoff_delay(0, *self._backoff, rng=self._rng) + 1.0
            self._rotate_reason = ""
            log.warning("rotation failed: the new connection closed during the overlap")
            return
        closer = loop.create_task(old.close())
        self._closers.add(closer)
        closer.add_done_callback(self._closers.discard)
        self.connections += 1
        self.rotations += 1
        self._on_rotation(reason)
        self._ws, self._rotate_reason = new, ""
        self._rotate_at = loop.time() + self._rotate_after_s
        log.info("ws rotated", reason=reason, connection=self.connections, overlap_frames=len(kept))
        yield Connected(self.connections, rotated=True)
        for frame in kept:
            yield frame

    async def _watch(self, ws: WsSocket) -> None:
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
                ws.abort()
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


async def _keep(ws: WsSocket, kept: list[Frame]) -> None:
    """Collect ``ws``'s frames (cancelling ``recv`` loses nothing: the next call returns the next frame)."""
    while True:
        kept.append(await ws.recv())
