"""Binance JSON the trader decodes that ``algo_common.binance.trading_schemas`` does not cover.

``exchangeInfo`` filters are decoded into one Struct with every field optional: Binance has many
filter types (PERCENT_PRICE, ICEBERG_PARTS, ...) and adds new ones, and an unknown one must never
stop the trader. Field names are Binance's.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec


class BinanceFilter(msgspec.Struct, frozen=True):
    """One entry of a symbol's ``filters``; only the fields of its ``filterType`` are present."""

    filterType: str  # noqa: N815
    minPrice: Decimal | None = None  # noqa: N815 - PRICE_FILTER
    maxPrice: Decimal | None = None  # noqa: N815
    tickSize: Decimal | None = None  # noqa: N815
    minQty: Decimal | None = None  # noqa: N815 - LOT_SIZE, MARKET_LOT_SIZE
    maxQty: Decimal | None = None  # noqa: N815
    stepSize: Decimal | None = None  # noqa: N815
    minNotional: Decimal | None = None  # noqa: N815 - MIN_NOTIONAL, NOTIONAL
    applyToMarket: bool | None = None  # noqa: N815 - MIN_NOTIONAL
    applyMinToMarket: bool | None = None  # noqa: N815 - NOTIONAL
    maxNotional: Decimal | None = None  # noqa: N815
    applyMaxToMarket: bool | None = None  # noqa: N815


class BinanceSymbol(msgspec.Struct, frozen=True):
    """The part of an ``exchangeInfo.symbols`` entry the trader uses."""

    symbol: str
    status: str  # TRADING | END_OF_DAY | HALT | BREAK | CANCEL_ONLY
    baseAsset: str  # noqa: N815
    quoteAsset: str  # noqa: N815
    filters: list[BinanceFilter]


class BinanceRateLimit(msgspec.Struct, frozen=True):
    """``{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}``."""

    rateLimitType: str  # noqa: N815 - REQUEST_WEIGHT | ORDERS | RAW_REQUESTS
    interval: str  # SECOND | MINUTE | HOUR | DAY
    intervalNum: int  # noqa: N815
    limit: int


class BinanceExchangeInfo(msgspec.Struct, frozen=True):
    serverTime: int  # noqa: N815
    symbols: list[BinanceSymbol]
    rateLimits: list[BinanceRateLimit] = msgspec.field(default_factory=list)  # noqa: N815


class BinanceServerTime(msgspec.Struct, frozen=True):
    serverTime: int  # noqa: N815


class BinanceErrorBody(msgspec.Struct, frozen=True):
    """``{"code": -1121, "msg": "Invalid symbol."}``."""

    code: int
    msg: str
