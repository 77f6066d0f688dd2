"""Signed REST requests to Binance spot over httpx.

Signing follows BINANCE.md §4: the params are percent-encoded in the order sent
(``rest_payload``), ``recvWindow`` and ``timestamp`` (server clock) come last, the signature is
appended and the API key goes in ``X-MBX-APIKEY``. Everything goes in the query string (allowed
for every method), so the signed payload is exactly what travels. Each answer is translated once:
429/418 -> :class:`RateLimited` (and the gate closes), 5xx / ``-1007`` / timeout / lost connection
-> :class:`OutcomeUnknown`, other 4xx -> :class:`BinanceApiError`. A ``-1021`` re-measures the
server clock and sends once more with a fresh timestamp: the request carries its own idempotency
key (``newClientOrderId``), so a second copy can never be a second order.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import httpx
import msgspec

from algo_common.binance.signing import Param, Signer, rest_payload
from algo_common.binance.urls import TIME_PATH
from algo_common.errors import OutcomeUnknown
from algo_common.logging import get_logger
from trader.venues.binance.clock import ServerClock
from trader.venues.binance.errors import INVALID_TIMESTAMP, UNKNOWN_OUTCOME_CODE, BinanceApiError
from trader.venues.binance.limits import RateGate
from trader.venues.binance.metrics import BinanceMetrics
from trader.venues.binance.schemas import BinanceErrorBody, BinanceServerTime

log = get_logger(__name__)
API_KEY_HEADER = "X-MBX-APIKEY"
ORDER_PATH = "/api/v3/order"
_error_decoder = msgspec.json.Decoder(BinanceErrorBody)
_time_decoder = msgspec.json.Decoder(BinanceServerTime)


class BinanceRestClient:
    """One Binance account over REST; safe to share between tasks."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        signer: Signer,
        recv_window_ms: int,
        gate: RateGate,
        metrics: BinanceMetrics,
        time_refresh_s: float,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._signer = signer
        self._recv_window_ms = recv_window_ms
        self._gate = gate
        self._metrics = metrics
        self.clock = ServerClock(self.server_time, time_refresh_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def server_time(self) -> int:
        return _time_decoder.decode(await self.public(TIME_PATH)).serverTime

    async def public(self, path: str, params: Sequence[Param] = ()) -> bytes:
        """An unsigned request (market data, exchangeInfo, time)."""
        query = rest_payload(params)
        return await self._send("GET", f"{self._base}{path}" + (f"?{query}" if query else ""), {}, False)

    @property
    def gate(self) -> RateGate:
        return self._gate

    @property
    def recv_window_ms(self) -> int:
        return self._recv_window_ms

    async def signed(self, method: str, path: str, params: Sequence[Param], sent: list[int] | None = None) -> bytes:
        """A signed request; on -1021 the clock is re-synced and the request sent once more.

        ``sent`` collects the ``timestamp`` of every copy sent: Binance drops a request still
        queued ``recvWindow`` after it, which bounds how long an unknown outcome stays unknown.
        """
        await self.clock.ensure_fresh()
        try:
            return await self._send_signed(method, path, params, sent)
        except BinanceApiError as e:
            if e.code != INVALID_TIMESTAMP:
                raise
            self._metrics.request_errors.add(1, {"kind": "clock"})
            offset = await self.clock.sync()
            log.warning("binance timestamp rejected; clock re-synced, sending once more", offset_ms=offset)
            return await self._send_signed(method, path, params, sent)

    async def _send_signed(self, method: str, path: str, params: Sequence[Param], sent: list[int] | None) -> bytes:
        timestamp = self.clock.now_ms()
        if sent is not None:
            sent.append(timestamp)
        pairs = [*params, ("recvWindow", self._recv_window_ms), ("timestamp", timestamp)]
        payload = rest_payload(pairs)
        signature = quote(self._signer.sign(payload), safe="")
        url = f"{self._base}{path}?{payload}&signature={signature}"
        placing_order = method == "POST" and path == ORDER_PATH
        return await self._send(method, url, {API_KEY_HEADER: self._signer.api_key}, placing_order)

    async def _send(self, method: str, url: str, headers: dict[str, str], placing_order: bool) -> bytes:
        await self._gate.wait(placing_order)
        try:
            response = await self._http.request(method, url, headers=headers)
        except httpx.TimeoutException as e:
            self._metrics.request_errors.add(1, {"kind": "timeout"})
            raise OutcomeUnknown(f"{method} {_path(url)}: timed out ({type(e).__name__})") from e
        except httpx.TransportError as e:
            self._metrics.request_errors.add(1, {"kind": "connection"})
            raise OutcomeUnknown(f"{method} {_path(url)}: connection failed ({type(e).__name__})") from e
        self._gate.observe(response.status_code, response.headers)
        if response.status_code == 200:
            return response.content
        return self._raise(method, url, response)

    def _raise(self, method: str, url: str, response: httpx.Response) -> bytes:
        body = _error_body(response.content)
        if response.status_code >= 500 or (body is not None and body.code == UNKNOWN_OUTCOME_CODE):
            self._metrics.request_errors.add(1, {"kind": "5xx"})
            detail = body.msg if body is not None else response.text[:200]
            raise OutcomeUnknown(f"{method} {_path(url)}: HTTP {response.status_code}: {detail}")
        self._metrics.request_errors.add(1, {"kind": "rejected"})
        if body is None:
            raise BinanceApiError(response.status_code, 0, response.text[:200])
        raise BinanceApiError(response.status_code, body.code, body.msg)


def _error_body(content: bytes) -> BinanceErrorBody | None:
    try:
        return _error_decoder.decode(content)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _path(url: str) -> str:
    """The URL without its query: the query holds the signature, which is never logged."""
    return url.split("?", 1)[0]
