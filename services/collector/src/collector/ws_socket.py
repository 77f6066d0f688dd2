"""One client WebSocket on picows: frames parsed in C, kept in a deque, read with :meth:`WsSocket.recv`.

``websockets`` parses frames in Python and hands each message over through a future: at market
rates that cost more CPU per frame than decoding it. picows parses in C and calls
:meth:`_Listener.on_ws_frame` for every frame of what one socket read brought; the frames wait in a
deque, so :meth:`WsSocket.recv` returns without suspending while any are there, and suspends only
when the socket had nothing more. Each frame keeps its receive time (epoch ms) from the callback.

picows answers each ping with a pong carrying the same payload (Binance's keepalive). A close frame
from the venue is answered and the socket closed; :meth:`WsSocket.recv` then raises
:class:`SocketClosed` once the frames before it are read.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import suppress
from dataclasses import dataclass

from picows import WSCloseCode, WSError, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from algo_common.clock import now_ms

CLOSE_TIMEOUT_S = 2.0
"""How long a graceful close may wait for the server to close its side."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One message as received: raw bytes and our receive time (epoch ms)."""

    data: bytes
    ts_recv: int


class SocketClosed(Exception):
    """The connection ended; ``reason`` says how (``closed by peer (1001)``, ``connection lost``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


OPEN_ERRORS = (OSError, TimeoutError, WSError)
"""What a failed connection attempt raises."""


class _Listener(WSListener):
    """picows' callbacks: text and binary messages go to the deque; a close is answered."""

    def __init__(self) -> None:
        self.frames: deque[Frame] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.closed_reason = ""
        self._fragments: list[bytes] = []

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            if frame.fin:
                self._deliver(frame.get_payload_as_bytes())
            else:
                self._fragments = [frame.get_payload_as_bytes()]
        elif kind is WSMsgType.CONTINUATION:  # a fragmented message (Binance sends none, the protocol allows it)
            self._fragments.append(frame.get_payload_as_bytes())
            if frame.fin:
                self._deliver(b"".join(self._fragments))
                self._fragments = []
        elif kind is WSMsgType.CLOSE:
            code = frame.get_close_code()
            self.closed_reason = f"closed by peer ({code.value if isinstance(code, WSCloseCode) else code})"
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed_reason = self.closed_reason or "connection lost"
        self._wake()

    def _deliver(self, data: bytes) -> None:
        self.frames.append(Frame(data, now_ms()))
        if self.waiter is not None:
            self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class WsSocket:
    """An open connection: :meth:`recv` its frames, :meth:`abort` or :meth:`close` it."""

    def __init__(self, transport: WSTransport, listener: _Listener) -> None:
        self._transport = transport
        self._listener = listener

    @classmethod
    async def open(cls, url: str, timeout_s: float) -> WsSocket:
        """Connect and upgrade within ``timeout_s``; raises one of :data:`OPEN_ERRORS`."""
        async with asyncio.timeout(timeout_s):
            transport, listener = await ws_connect(_Listener, url, websocket_handshake_timeout=timeout_s)
        assert isinstance(listener, _Listener)
        return cls(transport, listener)

    async def recv(self) -> Frame:
        """The next frame; :class:`SocketClosed` when the connection ended and every frame was read.

        Cancelling it loses nothing: the frame stays queued for the next call.
        """
        listener = self._listener
        while not listener.frames:
            if listener.closed_reason:
                raise SocketClosed(listener.closed_reason)
            listener.waiter = asyncio.get_running_loop().create_future()
            await listener.waiter
        return listener.frames.popleft()

    def abort(self) -> None:
        """Drop the TCP connection now (a stalled peer might never answer a close)."""
        self._listener.closed_reason = self._listener.closed_reason or "aborted"
        self._transport.disconnect(graceful=False)

    async def close(self) -> None:
        """Send a close frame, give the server ``CLOSE_TIMEOUT_S`` to close, then drop the connection."""
        if not self._transport.is_disconnected:
            with suppress(Exception):
                self._transport.send_close(WSCloseCode.OK)
            with suppress(Exception):  # a timeout, or picows re-raising what ended the connection
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await self._transport.wait_disconnected()
        self._listener.closed_reason = self._listener.closed_reason or "closed"
        self._transport.disconnect(graceful=False)
