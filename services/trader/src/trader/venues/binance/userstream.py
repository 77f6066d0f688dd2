"""User data stream over the WebSocket API (listenKey streams are retired: BINANCE.md §6).

One supervised connection: connect, subscribe (``userDataStream.subscribe.signature`` for any key;
``session.logon`` then ``userDataStream.subscribe`` for Ed25519), call ``on_connected`` (the
reconciliation that repairs whatever happened while we were away), then dispatch events by type:
``executionReport`` to ``on_report``; ``outboundAccountPosition`` and ``balanceUpdate`` to the
account's balances, which are told when the subscription starts and ends (events missed while
disconnected make them untrusted until the next snapshot).
``serverShutdown``, ``eventStreamTerminated``, a close or an error end the connection and it is
made again with jittered backoff (reset after a good subscription). The ``websockets`` library
answers server pings with the same payload. A malformed or unknown event is logged, counted and
skipped: one bad frame never stops the stream.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect

from algo_common.binance.signing import SIGNATURE_PARAM, Ed25519Signer, Signer, ws_api_payload
from algo_common.binance.trading_schemas import (
    BinanceBalanceUpdate,
    BinanceExecutionReport,
    BinanceOutboundAccountPosition,
    BinanceUserEventType,
    BinanceWsApiRequest,
    BinanceWsApiResponse,
)
from algo_common.errors import TransientError
from algo_common.logging import get_logger
from algo_common.retry import backoff_delay
from trader.venues.binance.balances import AccountBalances
from trader.venues.binance.clock import ServerClock
from trader.venues.binance.metrics import BinanceMetrics

log = get_logger(__name__)
RAW_LOG_LIMIT = 512
MAX_FRAME_BYTES = 1 << 20
RECONNECT_EVENTS = frozenset({"serverShutdown", "eventStreamTerminated"})
BALANCE_EVENTS = frozenset({"outboundAccountPosition", "balanceUpdate"})
IGNORED_EVENTS = frozenset({"externalLockUpdate", "listStatus"})

ReportHandler = Callable[[BinanceExecutionReport], Awaitable[None]]


class _Frame(msgspec.Struct, frozen=True):
    """Either a response (``id``, ``status``) or an event (``event``), told apart by what is set."""

    event: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    status: int | msgspec.UnsetType = msgspec.UNSET


class StreamEnded(TransientError):
    """The venue ended the subscription or the connection; reconnect."""


_frame_decoder = msgspec.json.Decoder(_Frame)
_type_decoder = msgspec.json.Decoder(BinanceUserEventType)
_report_decoder = msgspec.json.Decoder(BinanceExecutionReport)
_position_decoder = msgspec.json.Decoder(BinanceOutboundAccountPosition)
_balance_update_decoder = msgspec.json.Decoder(BinanceBalanceUpdate)
_response_decoder = msgspec.json.Decoder(BinanceWsApiResponse)
_encoder = msgspec.json.Encoder()


class UserStream:
    """Follows the account's order updates and hands each ``executionReport`` to ``on_report``."""

    def __init__(
        self,
        url: str,
        signer: Signer,
        clock: ServerClock,
        recv_window_ms: int,
        on_report: ReportHandler,
        on_connected: Callable[[], Awaitable[None]],
        metrics: BinanceMetrics,
        *,
        open_timeout_s: float,
        backoff_base_s: float,
        backoff_cap_s: float,
        balances: AccountBalances | None = None,
    ) -> None:
        self._url = url
        self._signer = signer
        self._clock = clock
        self._recv_window_ms = recv_window_ms
        self._on_report = on_report
        self._on_connected = on_connected
        self._metrics = metrics
        self._open_timeout_s = open_timeout_s
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._ids = itertools.count(1)
        self._balances = balances
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        """Connect, subscribe and dispatch forever (until cancelled)."""
        attempt = 0
        while True:
            try:
                async with connect(
                    self._url,
                    open_timeout=self._open_timeout_s,
                    ping_interval=None,  # the server pings; we only answer (the library does)
                    max_size=MAX_FRAME_BYTES,
                    proxy=None,
                ) as ws:
                    await self._subscribe(ws)
                    attempt = 0
                    self._metrics.user_stream_reconnects.add(1)
                    self.subscribed.set()
                    if self._balances is not None:
                        self._balances.stream_connected()
                    log.info("user data stream subscribed")
                    await self._on_connected()
                    await self._read(ws)
            except Exception as e:  # any failure ends this connection only; the loop makes a new one
                log.warning("user data stream lost; reconnecting", error=f"{type(e).__name__}: {e}"[:RAW_LOG_LIMIT])
            finally:
                self.subscribed.clear()
                if self._balances is not None:
                    self._balances.stream_lost()
            base, cap = self._backoff
            await asyncio.sleep(backoff_delay(attempt, base, cap))
            attempt += 1

    async def _subscribe(self, ws: ClientConnection) -> None:
        await self._clock.ensure_fresh()
        if isinstance(self._signer, Ed25519Signer):
            await self._request(ws, "session.logon", self._signed_params())
            await self._request(ws, "userDataStream.subscribe", {})
        else:
            await self._request(ws, "userDataStream.subscribe.signature", self._signed_params())

    def _signed_params(self) -> dict[str, object]:
        params: dict[str, object] = {
            "apiKey": self._signer.api_key,
            "recvWindow": self._recv_window_ms,
            "timestamp": self._clock.now_ms(),
        }
        params[SIGNATURE_PARAM] = self._signer.sign(ws_api_payload(params))
        return params

    async def _request(self, ws: ClientConnection, method: str, params: dict[str, Any]) -> None:
        request_id = next(self._ids)
        await ws.send(_encoder.encode(BinanceWsApiRequest(id=request_id, method=method, params=params)).decode())
        async with asyncio.timeout(self._open_timeout_s):
            while True:
                raw = await ws.recv(decode=False)
                response = _response_decoder.decode(raw)
                if response.id != request_id:
                    continue
                if response.status == 200:
                    return
                error = response.error if not isinstance(response.error, msgspec.UnsetType) else None
                code, msg = (error.code, error.msg) if error else (0, "no error body")
                raise TransientError(f"{method} refused: status {response.status}, code {code}: {msg}")

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            data = raw.encode() if isinstance(raw, str) else raw
            await self.dispatch(data)

    async def dispatch(self, raw: bytes) -> None:
        """Handle one frame; raises :class:`StreamEnded` on a frame that ends the subscription."""
        try:
            frame = _frame_decoder.decode(raw)
            if isinstance(frame.event, msgspec.UnsetType):
                return  # a late response to a request of ours
            kind = _type_decoder.decode(frame.event).e
            report = _report_decoder.decode(frame.event) if kind == "executionReport" else None
            if kind == "outboundAccountPosition" and self._balances is not None:
                self._balances.on_account_position(_position_decoder.decode(frame.event))
            elif kind == "balanceUpdate" and self._balances is not None:
                self._balances.on_balance_update(_balance_update_decoder.decode(frame.event))
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            self._metrics.user_stream_events.add(1, {"kind": "malformed"})
            log.error(
                "malformed user data frame skipped", error=str(e), raw=raw[:RAW_LOG_LIMIT].decode(errors="replace")
            )
            return
        self._metrics.user_stream_events.add(1, {"kind": kind if kind in _KNOWN else "other"})
        if report is not None:
            try:
                await self._on_report(report)
            except Exception as e:  # e.g. MongoDB down: reconciliation repairs the order later
                self._metrics.user_stream_events.add(1, {"kind": "unapplied"})
                log.warning(
                    "order update not applied; left to reconciliation",
                    client_order_id=report.c,
                    error=f"{type(e).__name__}: {e}"[:RAW_LOG_LIMIT],
                )
        elif kind in RECONNECT_EVENTS:
            raise StreamEnded(f"user data stream ended by the venue: {kind}")
        elif kind not in IGNORED_EVENTS and kind not in BALANCE_EVENTS:
            log.info("unknown user data event skipped", kind=kind)


_KNOWN = RECONNECT_EVENTS | IGNORED_EVENTS | BALANCE_EVENTS | {"executionReport", "unapplied"}
