"""Binance spot REST market-data endpoints, with Binance's errors, weights and headers.

Every ``/api/`` response carries ``X-MBX-USED-WEIGHT-1M``; past the weight limit the answer is
HTTP 429 with ``Retry-After`` and code -1003. Errors are ``{"code": ..., "msg": ...}`` with HTTP 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from algo_common.binance.schemas import BinanceError, BinanceServerTime
from algo_common.binance.urls import AGG_TRADES_PATH, DEPTH_PATH, EXCHANGE_INFO_PATH, KLINES_PATH, TIME_PATH
from exchange_sim.context import CONTEXT, SimContext
from exchange_sim.encoding import encode
from exchange_sim.intervals import is_valid_interval
from exchange_sim.schemas import (
    BinanceEmpty,
    BinanceExchangeInfo,
    BinanceHistoricalTradeRow,
    BinanceRateLimit,
    BinanceSymbolInfo,
)
from exchange_sim.symbols import SymbolSpec
from exchange_sim.trading.filters import SymbolFilters
from exchange_sim.trading.state import TRADING
from exchange_sim.weights import depth_weight

PING_PATH = "/api/v3/ping"
HISTORICAL_TRADES_PATH = "/api/v3/historicalTrades"
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
_ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]
_STP_MODES = ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BinanceApiError(Exception):
    """A request Binance would reject: becomes ``{"code": code, "msg": msg}`` with ``status``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status


def json_response(obj: object, status: int = 200) -> web.Response:
    return web.Response(body=encode(obj), status=status, content_type="application/json")


@web.middleware
async def binance_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Charge request weight, turn :class:`BinanceApiError` into Binance's error body, add headers."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    ctx = request.app[CONTEXT]
    charge = ctx.weights.charge(request.remote or "unknown", _weight(request))
    headers = {WEIGHT_HEADER: str(charge.used)}
    if charge.over_limit:
        msg = (
            f"Too much request weight used; current limit is {ctx.weights.limit} request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API."
        )
        response: web.StreamResponse = json_response(BinanceError(code=-1003, msg=msg), status=429)
        headers["Retry-After"] = str(charge.retry_after_s)
    else:
        try:
            response = await handler(request)
        except BinanceApiError as e:
            response = json_response(BinanceError(code=e.code, msg=e.msg), status=e.status)
        except web.HTTPException as e:
            e.headers.update(headers)
            raise
    response.headers.update(headers)
    return response


def _weight(request: web.Request) -> int:
    path = request.path
    if path == DEPTH_PATH:
        limit = request.query.get("limit", "100")
        return depth_weight(min(int(limit), 5000)) if limit.isdigit() else 5
    return {KLINES_PATH: 2, AGG_TRADES_PATH: 4, HISTORICAL_TRADES_PATH: 25, EXCHANGE_INFO_PATH: 20}.get(path, 1)


async def ping(_request: web.Request) -> web.Response:
    return json_response(BinanceEmpty())


async def server_time(request: web.Request) -> web.Response:
    # The trading server's clock (wall clock + skew), which signed requests are checked against.
    return json_response(BinanceServerTime(serverTime=request.app[TRADING].now_ms()))


async def exchange_info(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    specs = {spec.symbol: spec for spec in ctx.venue.specs()}
    wanted = _wanted_symbols(request)
    if wanted is not None and any(symbol not in specs for symbol in wanted):
        raise BinanceApiError(-1121, "Invalid symbol.")
    chosen = list(specs.values()) if wanted is None else [specs[s] for s in dict.fromkeys(wanted)]
    info = BinanceExchangeInfo(
        timezone="UTC",
        serverTime=request.app[TRADING].now_ms(),
        rateLimits=[
            BinanceRateLimit("REQUEST_WEIGHT", "MINUTE", 1, ctx.weights.limit),
            BinanceRateLimit("ORDERS", "SECOND", 10, ctx.settings.trading_orders_per_10s),
            BinanceRateLimit("ORDERS", "DAY", 1, ctx.settings.trading_orders_per_day),
            BinanceRateLimit("RAW_REQUESTS", "MINUTE", 5, 300_000),
        ],
        exchangeFilters=[],
        symbols=[_symbol_info(spec) for spec in chosen],
    )
    return json_response(info)


def _injected_failure(ctx: SimContext) -> web.Response | None:
    """A rate-limit answer queued through ``POST /_sim/rest-fail`` (market-data endpoints only)."""
    failure = ctx.faults.take_rest_failure()
    if failure is None:
        return None
    status, retry_after_s = failure
    msg = "Way too much request weight used; IP banned." if status == 418 else "Too much request weight used."
    response = json_response(BinanceError(code=-1003, msg=msg), status=status)
    response.headers["Retry-After"] = str(retry_after_s)
    return response


async def depth(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    if (failure := _injected_failure(ctx)) is not None:
        return failure
    symbol = _symbol(request, ctx)
    limit = _clamped(request, "limit", default=100, maximum=5000)
    return json_response(ctx.venue.depth(symbol, limit))


async def klines(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    if (failure := _injected_failure(ctx)) is not None:
        return failure
    symbol = _symbol(request, ctx)
    interval = _mandatory(request, "interval")
    if not is_valid_interval(interval):
        raise BinanceApiError(-1120, "Invalid interval.")
    start, end = _int_param(request, "startTime"), _int_param(request, "endTime")
    limit = _clamped(request, "limit", default=500, maximum=1000)
    return json_response(ctx.venue.klines(symbol, interval, start, end, limit))


async def agg_trades(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    if (failure := _injected_failure(ctx)) is not None:
        return failure
    symbol = _symbol(request, ctx)
    from_id = _int_param(request, "fromId")
    start, end = _int_param(request, "startTime"), _int_param(request, "endTime")
    limit = _clamped(request, "limit", default=500, maximum=1000)
    return json_response(ctx.venue.agg_trades(symbol, from_id, start, end, limit))


async def historical_trades(request: web.Request) -> web.Response:
    """Trades from ``fromId`` (default: the latest ``limit``); each simulated aggTrade is exactly one trade."""
    ctx = request.app[CONTEXT]
    if (failure := _injected_failure(ctx)) is not None:
        return failure
    symbol = _symbol(request, ctx)
    from_id = _int_param(request, "fromId")
    limit = _clamped(request, "limit", default=500, maximum=1000)
    rows = ctx.venue.agg_trades(symbol, from_id, None, None, limit)
    return json_response([BinanceHistoricalTradeRow.of(row) for row in rows if row.f == row.l])


def add_routes(app: web.Application) -> None:
    app.router.add_get(PING_PATH, ping)
    app.router.add_get(TIME_PATH, server_time)
    app.router.add_get(EXCHANGE_INFO_PATH, exchange_info)
    app.router.add_get(DEPTH_PATH, depth)
    app.router.add_get(KLINES_PATH, klines)
    app.router.add_get(AGG_TRADES_PATH, agg_trades)
    app.router.add_get(HISTORICAL_TRADES_PATH, historical_trades)


def _symbol_info(spec: SymbolSpec) -> BinanceSymbolInfo:
    return BinanceSymbolInfo(
        symbol=spec.symbol,
        status="TRADING",
        baseAsset=spec.base_asset,
        baseAssetPrecision=8,
        quoteAsset=spec.quote_asset,
        quotePrecision=8,
        quoteAssetPrecision=8,
        baseCommissionPrecision=8,
        quoteCommissionPrecision=8,
        orderTypes=_ORDER_TYPES,
        icebergAllowed=True,
        ocoAllowed=True,
        otoAllowed=True,
        opoAllowed=True,
        quoteOrderQtyMarketAllowed=True,
        allowTrailingStop=True,
        cancelReplaceAllowed=True,
        amendAllowed=True,
        pegInstructionsAllowed=True,
        isSpotTradingAllowed=True,
        isMarginTradingAllowed=False,
        filters=SymbolFilters.for_spec(spec).to_binance(),  # the same values orders are checked against
        permissions=[],
        permissionSets=[["SPOT"]],
        defaultSelfTradePreventionMode="EXPIRE_MAKER",
        allowedSelfTradePreventionModes=_STP_MODES,
    )


def _wanted_symbols(request: web.Request) -> list[str] | None:
    symbol, symbols = request.query.get("symbol"), request.query.get("symbols")
    if symbol is not None and symbols is not None:
        raise BinanceApiError(-1128, "Combination of optional parameters invalid.")
    if symbol is not None:
        return [symbol]
    if symbols is None:
        return None
    try:
        names = msgspec.json.decode(symbols, type=list[str])
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        legal = r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'
        raise BinanceApiError(
            -1100, f"Illegal characters found in parameter 'symbols'; legal range is '{legal}'."
        ) from e
    return names


def _mandatory(request: web.Request, name: str) -> str:
    value = request.query.get(name, "")
    if not value:
        raise BinanceApiError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


def _symbol(request: web.Request, ctx: SimContext) -> str:
    symbol = _mandatory(request, "symbol")
    if not ctx.has_symbol(symbol):
        raise BinanceApiError(-1121, "Invalid symbol.")
    return symbol


def _int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 20:
        raise BinanceApiError(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
        )
    return int(value)


def _clamped(request: web.Request, name: str, *, default: int, maximum: int) -> int:
    value = _int_param(request, name)
    return default if value is None else max(1, min(value, maximum))
