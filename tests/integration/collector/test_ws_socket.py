"""The collector's WebSocket (picows) against a real server socket: frames, fragments, pings, closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

from algo_trade.servers import free_port
from collector.ws_socket import OPEN_ERRORS, SocketClosed, WsSocket
from tests.support import eventually

Script = Callable[[WSTransport], None]


@dataclass
class _Venue:
    """A WebSocket server that runs ``script`` on each new connection and records the pongs it gets."""

    url: str
    script: list[Script] = field(default_factory=list)
    pongs: list[bytes] = field(default_factory=list)


@pytest.fixture
async def venue() -> AsyncIterator[_Venue]:
    port = free_port()
    state = _Venue(f"ws://127.0.0.1:{port}/stream")

    class Server(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            for step in state.script:
                step(transport)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type is WSMsgType.PONG:
                state.pongs.append(frame.get_payload_as_bytes())
            elif frame.msg_type is WSMsgType.CLOSE:
                transport.disconnect()

    server = await ws_create_server(lambda _: Server(), "127.0.0.1", port)
    yield state
    server.close()
    await server.wait_closed()


def _text(data: bytes, fin: bool = True, kind: WSMsgType = WSMsgType.TEXT) -> Script:
    return lambda transport: transport.send(kind, data, fin=fin)


async def test_frames_arrive_in_order_and_a_fragmented_message_arrives_whole(venue: _Venue) -> None:
    # arrange
    venue.script = [
        _text(b'{"a":1}'),
        _text(b'{"b":', fin=False),
        _text(b"2", fin=False, kind=WSMsgType.CONTINUATION),
        _text(b"}", kind=WSMsgType.CONTINUATION),
        _text(b'{"c":3}'),
    ]
    ws = await WsSocket.open(venue.url, 5.0)
    # act
    frames = [await ws.recv() for _ in range(3)]
    # assert
    assert [frame.data for frame in frames] == [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    assert all(frame.ts_recv > 0 for frame in frames)
    await ws.close()


async def test_a_ping_is_answered_with_a_pong_carrying_its_payload(venue: _Venue) -> None:
    # arrange
    venue.script = [lambda transport: transport.send_ping(b"keepalive-42")]
    # act
    ws = await WsSocket.open(venue.url, 5.0)

    # assert
    async def answered() -> bool:
        return venue.pongs == [b"keepalive-42"]

    await eventually(answered, "the pong", timeout_s=5)
    await ws.close()


async def test_a_close_from_the_venue_ends_recv_after_the_frames_before_it(venue: _Venue) -> None:
    # arrange
    venue.script = [_text(b"last"), lambda transport: transport.send_close(WSCloseCode.GOING_AWAY)]
    ws = await WsSocket.open(venue.url, 5.0)
    # act
    frame = await ws.recv()
    with pytest.raises(SocketClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    # assert
    assert frame.data == b"last"
    assert closed.value.reason == "closed by peer (1001)"


async def test_an_aborted_socket_ends_a_waiting_recv(venue: _Venue) -> None:
    # arrange
    ws = await WsSocket.open(venue.url, 5.0)
    waiting = asyncio.create_task(ws.recv())
    await asyncio.sleep(0)  # let recv start waiting: it must be woken, not left hanging
    # act
    ws.abort()
    # assert
    with pytest.raises(SocketClosed):
        await asyncio.wait_for(waiting, 5)


async def test_a_cancelled_recv_loses_no_frame(venue: _Venue) -> None:
    # arrange: the venue sends one frame a moment after the connection opens
    def later(transport: WSTransport) -> None:
        asyncio.get_running_loop().call_later(0.3, lambda: transport.send(WSMsgType.TEXT, b"after"))

    venue.script = [later]
    ws = await WsSocket.open(venue.url, 5.0)
    # act: a recv cancelled while it waits (before the frame), then another
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), 0.01)
    frame = await asyncio.wait_for(ws.recv(), 5)
    # assert
    assert frame.data == b"after"
    await ws.close()


async def test_no_server_is_an_open_error() -> None:
    # act / assert
    with pytest.raises(OPEN_ERRORS):
        await WsSocket.open(f"ws://127.0.0.1:{free_port()}/stream", 2.0)
