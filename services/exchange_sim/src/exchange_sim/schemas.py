"""Binance JSON shapes the simulator serves that ``algo_common.binance.schemas`` lacks.

The shared schemas are what our clients decode; they skip fields Binance marks "ignore". The
simulator must still send those fields (``M`` on trades, ``B`` on klines) to look exactly like
Binance, so it subclasses the shared Structs to add them, and defines the REST shapes no client
decodes yet (``exchangeInfo``, ``aggTrades`` rows, WebSocket control replies).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from algo_common.binance.schemas import BinanceAggTrade, BinanceKlineData, BinanceTrade


class SimTrade(BinanceTrade, frozen=True):
    """``<symbol>@trade`` payload as sent, with Binance's ``M`` ("ignore") field."""

    M: bool = True  # ignore


class SimAggTrade(BinanceAggTrade, frozen=True):
    """``<symbol>@aggTrade`` payload as sent, with Binance's ``M`` ("ignore") field."""

    M: bool = True  # ignore


class SimKlineData(BinanceKlineData, frozen=True):
    """Kline ``k`` object as sent, with Binance's ``B`` ("ignore") field."""

    B: str = "0"  # ignore


class BinanceHistoricalTradeRow(msgspec.Struct, frozen=True):
    """One row of ``GET /api/v3/historicalTrades``."""

    id: int  # trade id
    price: str  # decimal string
    qty: str  # decimal string
    quoteQty: str  # price * qty  # noqa: N815 - Binance's key
    time: int  # trade time, ms
    isBuyerMaker: bool  # noqa: N815 - Binance's key
    isBestMatch: bool  # noqa: N815 - Binance's key

    @classmethod
    def of(cls, row: BinanceAggTradeRow) -> BinanceHistoricalTradeRow:
        """The trade of an aggregate of exactly one trade (``f == l``)."""
        return cls(
            id=row.f,
            price=format(row.p, "f"),
            qty=format(row.q, "f"),
            quoteQty=format(row.p * row.q, "f"),
            time=row.T,
            isBuyerMaker=row.m,
            isBestMatch=row.M,
        )


class BinanceAggTradeRow(msgspec.Struct, frozen=True):
    """One row of ``GET /api/v3/aggTrades`` (no ``e``/``E``/``s``)."""

    a: int  # aggregate trade id
    p: Decimal  # price
    q: Decimal  # quantity
    f: int  # first trade id
    l: int  # last trade id  # noqa: E741 - Binance's key
    T: int  # trade time, ms
    m: bool  # is the buyer the market maker?
    M: bool = True  # was the trade the best price match? (always true on spot)


class BinanceEmpty(msgspec.Struct, frozen=True):
    """``GET /api/v3/ping`` response: ``{}``."""


# --- exchangeInfo --------------------------------------------------------------------------------


class BinanceRateLimit(msgspec.Struct, frozen=True):
    """An entry of ``exchangeInfo.rateLimits``."""

    rateLimitType: str  # REQUEST_WEIGHT | ORDERS | RAW_REQUESTS  # noqa: N815
    interval: str  # SECOND | MINUTE | DAY
    intervalNum: int  # noqa: N815
    limit: int


class BinancePriceFilter(msgspec.Struct, frozen=True, tag_field="filterType", tag="PRICE_FILTER"):
    minPrice: Decimal  # noqa: N815
    maxPrice: Decimal  # noqa: N815
    tickSize: Decimal  # noqa: N815


class BinanceLotSizeFilter(msgspec.Struct, frozen=True, tag_field="filterType", tag="LOT_SIZE"):
    minQty: Decimal  # noqa: N815
    maxQty: Decimal  # noqa: N815
    stepSize: Decimal  # noqa: N815


class BinanceMarketLotSizeFilter(msgspec.Struct, frozen=True, tag_field="filterType", tag="MARKET_LOT_SIZE"):
    minQty: Decimal  # noqa: N815
    maxQty: Decimal  # noqa: N815
    stepSize: Decimal  # noqa: N815


class BinanceNotionalFilter(msgspec.Struct, frozen=True, tag_field="filterType", tag="NOTIONAL"):
    minNotional: Decimal  # noqa: N815
    applyMinToMarket: bool  # noqa: N815
    maxNotional: Decimal  # noqa: N815
    applyMaxToMarket: bool  # noqa: N815
    avgPriceMins: int  # noqa: N815


BinanceSymbolFilter = BinancePriceFilter | BinanceLotSizeFilter | BinanceMarketLotSizeFilter | BinanceNotionalFilter


class BinanceSymbolInfo(msgspec.Struct, frozen=True):
    """One entry of ``exchangeInfo.symbols``."""

    symbol: str
    status: str  # TRADING | END_OF_DAY | HALT | BREAK | CANCEL_ONLY
    baseAsset: str  # noqa: N815
    baseAssetPrecision: int  # noqa: N815
    quoteAsset: str  # noqa: N815
    quotePrecision: int  # noqa: N815
    quoteAssetPrecision: int  # noqa: N815
    baseCommissionPrecision: int  # noqa: N815
    quoteCommissionPrecision: int  # noqa: N815
    orderTypes: list[str]  # noqa: N815
    icebergAllowed: bool  # noqa: N815
    ocoAllowed: bool  # noqa: N815
    otoAllowed: bool  # noqa: N815
    opoAllowed: bool  # noqa: N815
    quoteOrderQtyMarketAllowed: bool  # noqa: N815
    allowTrailingStop: bool  # noqa: N815
    cancelReplaceAllowed: bool  # noqa: N815
    amendAllowed: bool  # noqa: N815
    pegInstructionsAllowed: bool  # noqa: N815
    isSpotTradingAllowed: bool  # noqa: N815
    isMarginTradingAllowed: bool  # noqa: N815
    filters: list[BinanceSymbolFilter]
    permissions: list[str]  # always empty since 2024-04
    permissionSets: list[list[str]]  # noqa: N815
    defaultSelfTradePreventionMode: str  # noqa: N815
    allowedSelfTradePreventionModes: list[str]  # noqa: N815


class BinanceExchangeInfo(msgspec.Struct, frozen=True):
    """``GET /api/v3/exchangeInfo`` response."""

    timezone: str
    serverTime: int  # noqa: N815
    rateLimits: list[BinanceRateLimit]  # noqa: N815
    exchangeFilters: list[BinanceSymbolFilter]  # noqa: N815
    symbols: list[BinanceSymbolInfo]


# --- WebSocket control replies -------------------------------------------------------------------

WsRequestId = int | str | None
WsResultValue = list[str] | bool | None


class WsResult(msgspec.Struct, frozen=True):
    """Reply to a control message: ``{"result": null, "id": 1}``."""

    result: WsResultValue
    id: WsRequestId


class WsError(msgspec.Struct, frozen=True, omit_defaults=True):
    """Control-message error: ``{"code": 2, "msg": "...", "id": 1}`` (no id if it is unknown)."""

    code: int  # 0 unknown property, 1 bad value type, 2 invalid request, 3 invalid JSON
    msg: str
    id: WsRequestId | msgspec.UnsetType = msgspec.UNSET
