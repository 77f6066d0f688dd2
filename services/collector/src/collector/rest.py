"""Binance REST over httpx: one gated GET with HTTP failures translated into our error taxonomy,
and the calls the collector makes with it (depth snapshots; klines and trades for the backfill)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import httpx
import msgspec

from algo_common.binance import parse
from algo_common.binance import rest as binance_rest
from algo_common.binance.urls import AGG_TRADES_PATH, DEPTH_PATH, KLINES_PATH
from algo_common.domain.models import BookSnapshot, Kline, Trade
from algo_common.errors import BadMessage, RateLimited, TransientError
from collector.weight_gate import WeightGate

HISTORICAL_TRADES_PATH = "/api/v3/historicalTrades"
PAGE_LIMIT = 1000
"""Rows per page of klines / aggTrades / historicalTrades (Binance's maximum)."""
WEIGHTS = {KLINES_PATH: 2, AGG_TRADES_PATH: 4, HISTORICAL_TRADES_PATH: 25}
"""Request weight per endpoint (rest-api.md, 2025-03 onwards); depth is weighted by limit."""


class BinanceHistoricalTrade(msgspec.Struct, frozen=True):
    """A row of ``GET /api/v3/historicalTrades``."""

    id: int  # trade id
    price: str  # decimal string
    qty: str  # decimal string
    time: int  # trade time, ms
    isBuyerMaker: bool  # noqa: N815 - Binance's key


_historical = msgspec.json.Decoder(list[BinanceHistoricalTrade])


def depth_weight(limit: int) -> int:
    """``GET /api/v3/depth`` weight: 1-100 -> 5, -500 -> 25, -1000 -> 50, else 250."""
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


class RestClient:
    """One shared ``httpx.AsyncClient`` (connection pool) and the weight gate, per service."""

    def __init__(self, http: httpx.AsyncClient, rest_base_url: str, gate: WeightGate | None = None) -> None:
        self._http = http
        self._base = rest_base_url.rstrip("/")
        self.gate = gate or WeightGate(budget_per_minute=6000)

    async def get(self, path: str, params: dict[str, str | int], weight: int, what: str) -> tuple[bytes, int]:
        """The body of a 200 answer and our receive time (ms).

        Raises :class:`RateLimited` (429/418, after pausing the gate), :class:`TransientError`
        (network, timeout, 5xx) or :class:`FatalError` (any other 4xx: a request we must not repeat).
        """
        await self.gate.acquire(weight)
        response, ts_recv = await binance_rest.get(self._http, self._base + path, params, what)
        self.gate.observe(dict(response.headers))
        try:
            binance_rest.raise_for_status(response, what)
        except RateLimited as e:
            self.gate.block(e.retry_after_s, banned=e.banned)
            raise
        return response.content, ts_recv


class DepthSnapshotClient:
    """Fetches order-book snapshots (``GET /api/v3/depth``)."""

    def __init__(self, http: httpx.AsyncClient, rest_base_url: str, limit: int, gate: WeightGate | None = None) -> None:
        self._rest = RestClient(http, rest_base_url, gate)
        self._limit = limit

    async def fetch(self, symbol: str) -> tuple[BookSnapshot, int]:
        """The snapshot and our receive time (ms); errors as :meth:`RestClient.get`, a bad body is transient."""
        what = f"depth snapshot {symbol}"
        body, ts_recv = await self._rest.get(
            DEPTH_PATH, {"symbol": symbol, "limit": self._limit}, depth_weight(self._limit), what
        )
        try:
            return parse.parse_depth_snapshot(symbol, body), ts_recv
        except BadMessage as e:
            raise TransientError(f"{what}: bad body: {e}") from e


class HistoryClient:
    """Closed klines and trades by id range, one page per call, for the backfill."""

    def __init__(self, rest: RestClient, trade_kind: str) -> None:
        self._rest = rest
        self._trades_path = AGG_TRADES_PATH if trade_kind == "aggTrade" else HISTORICAL_TRADES_PATH

    async def trades(self, symbol: str, from_id: int) -> list[Trade]:
        """Up to :data:`PAGE_LIMIT` trades with id >= ``from_id``, oldest first (aggregate ids for aggTrade)."""
        path = self._trades_path
        params: dict[str, str | int] = {"symbol": symbol, "fromId": from_id, "limit": PAGE_LIMIT}
        body, ts_recv = await self._rest.get(path, params, WEIGHTS[path], f"trades {symbol} from {from_id}")
        try:
            if path == AGG_TRADES_PATH:
                return parse.parse_agg_trade_rows(symbol, body, ts_recv)
            return [_to_trade(symbol, row, ts_recv) for row in _historical.decode(body)]
        except (BadMessage, msgspec.DecodeError, msgspec.ValidationError) as e:
            raise TransientError(f"trades {symbol}: bad body: {e}") from e

    async def klines(self, symbol: str, interval: str, start_ms: int, end_ms: int) -> list[Kline]:
        """Klines opening in ``start_ms..end_ms`` (all closed: the caller asks only for bars before a closed one)."""
        params: dict[str, str | int] = {
            "symbol": symbol,
            "interval": interval,
            "startTime": start_ms,
            "endTime": end_ms,
            "limit": PAGE_LIMIT,
        }
        body, ts_recv = await self._rest.get(KLINES_PATH, params, WEIGHTS[KLINES_PATH], f"klines {symbol}")
        try:
            rows = parse.parse_kline_rows(symbol, interval, body, ts_recv)
        except BadMessage as e:
            raise TransientError(f"klines {symbol}: bad body: {e}") from e
        return [msgspec.structs.replace(k, closed=True) for k in rows if start_ms <= k.open_time <= end_ms]


def _to_trade(symbol: str, row: BinanceHistoricalTrade, ts_recv: int) -> Trade:
    try:
        price, qty = Decimal(row.price), Decimal(row.qty)
    except InvalidOperation as e:
        raise BadMessage(f"bad historical trade {row.id}") from e
    if not (price.is_finite() and qty.is_finite() and price > 0 and qty > 0):
        raise BadMessage(f"bad historical trade {row.id}: {price} x {qty}")
    return Trade(
        symbol=symbol.upper(),
        trade_id=row.id,
        price=price,
        qty=qty,
        buyer_is_maker=row.isBuyerMaker,
        ts_trade=row.time,
        ts_event=row.time,
        ts_recv=ts_recv,
    )
