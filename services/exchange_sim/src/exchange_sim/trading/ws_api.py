"""WebSocket API ``/ws-api/v3``: requests ``{"id","method","params"}``, answers ``{"id","status",...}``,
and the user data stream.

Methods: ``ping``, ``time``, ``session.logon`` (Ed25519 keys only), ``session.status``,
``session.logout``, ``session.subscriptions``, ``userDataStream.subscribe`` (after a logon),
``userDataStream.subscribe.signature`` (any key, no logon), ``userDataStream.unsubscribe``.
Signed params follow the WS API payload rule (sorted, not percent-encoded). The server pings every
``ping_interval_s`` and drops a connection whose pong is ``pong_timeout_s`` late, as the streams do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec
import structlog
from aiohttp import WSMsgType, web

from algo_common.binance.schemas import BinanceServerShutdown, BinanceServerTime
from algo_common.binance.signing import ws_api_payload
from algo_common.binance.trading_schemas import (
    BinanceEventStreamTerminated,
    BinanceSubscriptionResult,
    BinanceWsApiError,
    BinanceWsApiResponse,
    WsApiId,
)
from exchange_sim.encoding import encode
from exchange_sim.pings import PingTracker
from exchange_sim.schemas import BinanceEmpty
from exchange_sim.trading.accounts import ApiKey
from exchange_sim.trading.auth import check_timestamp, lookup_key
from exchange_sim.trading.errors import TradingError, mandatory
from exchange_sim.trading.state import TRADING, TradingState
from exchange_sim.trading.userstream import Subscription, frame

log = structlog.get_logger(__name__)

WS_API_PATH = "/ws-api/v3"
MAX_FRAME_BYTES = 64 * 1024


class SessionStatus(msgspec.Struct, frozen=True):
    """``result`` of ``session.logon`` / ``session.status`` / ``session.logout``."""

    apiKey: str | None  # noqa: N815
    authorizedSince: int | None  # noqa: N815
    connectedSince: int  # noqa: N815
    returnRateLimits: bool  # noqa: N815
    serverTime: int  # noqa: N815
    userDataStream: bool  # noqa: N815


class _Request(msgspec.Struct, frozen=True):
    method: str
    id: WsApiId = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class WsApiConnection:
    """One WebSocket API client: its session, subscriptions, send queue and keepalive."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, state: TradingState) -> None:
        self.ws = ws
        self.request = request
        self.state = state
        self.key: ApiKey | None = None
        self.authorized_since: int | None = None
        self.connected_since = state.now_ms()
        self.closed = False
        self._next_subscription = 0
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=state.settings.send_queue_size)
        self._pings = PingTracker()

    # --- sending ----------------------------------------------------------------------------

    def offer(self, data: bytes) -> bool:
        if self.closed:
            return False
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self.abort("send queue overflow")
            return False
        return True

    def abort(self, reason: str) -> None:
        """Drop the TCP connection without a close frame."""
        if self.closed:
            return
        self.closed = True
        log.info("ws_api_abort", reason=reason)
        if self.request.transport is not None:
            self.request.transport.abort()

    # --- lifecycle ----------------------------------------------------------------------------

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._write_loop()), asyncio.create_task(self._keepalive_loop())]
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    self.handle(msg.data)
                elif msg.type is WSMsgType.PING:
                    await self.ws.pong(bytes(msg.data))
                elif msg.type is WSMsgType.PONG:
                    self._pings.on_pong(bytes(msg.data))
        finally:
            self.closed = True
            self.state.streams.remove(self)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not self.ws.closed:
                await self.ws.close()

    async def _write_loop(self) -> None:
        try:
            while True:
                await self.ws.send_frame(await self._queue.get(), WSMsgType.TEXT)
        except ConnectionError:
            self.abort("write failed")

    async def _keepalive_loop(self) -> None:
        settings = self.state.settings
        while True:
            await asyncio.sleep(settings.ping_interval_s)
            now = time.monotonic()
            if self._pings.overdue(now, settings.pong_timeout_s):
                self.abort("no pong within pong timeout")
                return
            if not await self._pings.ping(self.ws, now):
                return

    # --- requests -----------------------------------------------------------------------------

    def handle(self, raw: str) -> None:
        """Answer one request (and send what follows it, e.g. ``eventStreamTerminated``)."""
        try:
            request = msgspec.json.decode(raw, type=_Request)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self._reply(None, error=TradingError(-1102, "Invalid JSON request: expected {id, method, params}."))
            return
        method = METHODS.get(request.method)
        if method is None:
            self._reply(request.id, error=TradingError(-1020, "This operation is not supported."))
            return
        after: list[bytes] = []
        try:
            result = method(self, request.params, after)
        except TradingError as e:
            self._reply(request.id, error=e)
            return
        except Exception:  # one bad request never ends the connection
            log.exception("ws_api_request_failed", method=request.method)
            error = TradingError(-1000, "An unknown error occurred while processing the request.", status=500)
            self._reply(request.id, error=error)
            return
        self._reply(request.id, result=result)
        for data in after:
            self.offer(data)

    def _reply(self, request_id: WsApiId, *, result: object = None, error: TradingError | None = None) -> None:
        if error is not None:
            response = BinanceWsApiResponse(
                id=request_id, status=error.status, error=BinanceWsApiError(code=error.code, msg=error.msg)
            )
        else:
            response = BinanceWsApiResponse(id=request_id, status=200, result=msgspec.Raw(encode(result)))
        self.offer(encode(response))

    def status(self) -> SessionStatus:
        return SessionStatus(
            apiKey=self.key.api_key if self.key else None,
            authorizedSince=self.authorized_since,
            connectedSince=self.connected_since,
            returnRateLimits=False,
            serverTime=self.state.now_ms(),
            userDataStream=bool(self.state.streams.of(self)),
        )

    def verified_key(self, params: dict[str, Any]) -> ApiKey:
        """The key of a signed WS API request (-2015, -1102, -1022, -1021 as on REST)."""
        key = lookup_key(self.state.keyring, str(params.get("apiKey", "")) or None)
        signature = str(params.get("signature", ""))
        if not params.get("timestamp"):
            raise mandatory("timestamp")
        if not signature:
            raise mandatory("signature")
        if not key.verify(ws_api_payload(params), signature):
            raise TradingError(-1022, "Signature for this request is not valid.")
        check_timestamp(params, self.state.now_ms())
        return key

    def subscribe(self, account: str) -> BinanceSubscriptionResult:
        if any(sub.account == account for sub in self.state.streams.of(self)):
            raise TradingError(-2035, "User Data Stream subscription already active.")
        subscription_id = self._next_subscription
        self._next_subscription += 1
        self.state.streams.add(Subscription(self, subscription_id, account))
        return BinanceSubscriptionResult(subscriptionId=subscription_id)


Method = Callable[[WsApiConnection, dict[str, Any], list[bytes]], object]


def _ping(_conn: WsApiConnection, _params: dict[str, Any], _after: list[bytes]) -> object:
    return BinanceEmpty()


def _time(conn: WsApiConnection, _params: dict[str, Any], _after: list[bytes]) -> object:
    return BinanceServerTime(serverTime=conn.state.now_ms())


def _logon(conn: WsApiConnection, params: dict[str, Any], _after: list[bytes]) -> object:
    key = conn.verified_key(params)
    if key.kind != "ED25519":
        raise TradingError(-4056, "HMAC_SHA256 API key is not supported.")
    conn.key = key
    conn.authorized_since = conn.state.now_ms()
    return conn.status()


def _session_status(conn: WsApiConnection, _params: dict[str, Any], _after: list[bytes]) -> object:
    return conn.status()


def _logout(conn: WsApiConnection, _params: dict[str, Any], _after: list[bytes]) -> object:
    conn.key = None
    conn.authorized_since = None
    return conn.status()


def _subscriptions(conn: WsApiConnection, _params: dict[str, Any], _after: list[bytes]) -> object:
    return [BinanceSubscriptionResult(subscriptionId=s.subscription_id) for s in conn.state.streams.of(conn)]


def _subscribe(conn: WsApiConnection, _params: dict[str, Any], _after: list[bytes]) -> object:
    if conn.key is None:
        raise TradingError(-2015, "Invalid API-key, IP, or permissions for action.")
    return conn.subscribe(conn.key.account)


def _subscribe_signature(conn: WsApiConnection, params: dict[str, Any], _after: list[bytes]) -> object:
    return conn.subscribe(conn.verified_key(params).account)


def _unsubscribe(conn: WsApiConnection, params: dict[str, Any], after: list[bytes]) -> object:
    raw_id = params.get("subscriptionId")
    if raw_id is not None and not isinstance(raw_id, int):
        raise mandatory("subscriptionId")
    ended = conn.state.streams.remove(conn, raw_id)
    if raw_id is not None and not ended:
        raise TradingError(-2037, "Invalid subscription ID.")
    now = conn.state.now_ms()
    after.extend(
        frame(s.subscription_id, BinanceEventStreamTerminated(e="eventStreamTerminated", E=now)) for s in ended
    )
    return BinanceEmpty()


METHODS: dict[str, Method] = {
    "ping": _ping,
    "time": _time,
    "session.logon": _logon,
    "session.status": _session_status,
    "session.logout": _logout,
    "session.subscriptions": _subscriptions,
    "userDataStream.subscribe": _subscribe,
    "userDataStream.subscribe.signature": _subscribe_signature,
    "userDataStream.unsubscribe": _unsubscribe,
}


async def ws_api(request: web.Request) -> web.StreamResponse:
    state = request.app[TRADING]
    ws = web.WebSocketResponse(autoping=False, compress=False, timeout=5.0, max_msg_size=MAX_FRAME_BYTES)
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest(text="expected a WebSocket upgrade")
    await ws.prepare(request)
    conn = WsApiConnection(ws, request, state)
    state.connections.add(conn)
    log.info("ws_api_open", remote=request.remote)
    try:
        await conn.run()
    finally:
        state.connections.discard(conn)
        log.info("ws_api_end", close_code=ws.close_code)
    return ws


def server_shutdown_frame(event_time_ms: int) -> bytes:
    """``{"event": {"e": "serverShutdown", "E": ..}}`` as sent on WS API connections."""
    return b'{"event":' + encode(BinanceServerShutdown(e="serverShutdown", E=event_time_ms)) + b"}"


async def close_all(app: web.Application) -> None:
    for conn in list(app[TRADING].connections):
        await conn.ws.close(code=1001, message=b"Server shutting down")


def add_routes(app: web.Application) -> None:
    app.router.add_get(WS_API_PATH, ws_api)
    app.on_shutdown.append(close_all)
