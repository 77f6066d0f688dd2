"""The collector's WebSocket (picows) against a real server socket: frames, fragments, pings, closes, TLS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
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


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and 127.0.0.1 signed by its own key (a test venue's)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.parametrize("trusted", [True, False])
async def test_wss_verifies_the_venue_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: bool
) -> None:
    # arrange: a TLS venue (Binance's URLs are wss://) with a certificate the client trusts or not
    cert_path, key_path = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))  # the default context's trust store
    port = free_port()

    class Server(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            transport.send(WSMsgType.TEXT, b"over tls")

    server = await ws_create_server(lambda _: Server(), "127.0.0.1", port, ssl=server_tls)
    try:
        url = f"wss://localhost:{port}/stream"
        if trusted:
            # act
            ws = await WsSocket.open(url, 5.0)
            # assert
            assert (await asyncio.wait_for(ws.recv(), 5)).data == b"over tls"
            await ws.close()
        else:
            # act / assert: an unknown certificate is refused, as an open error (the supervisor backs off)
            with pytest.raises(OPEN_ERRORS):
                await WsSocket.open(url, 5.0)
    finally:
        server.close()
        await server.wait_closed()
