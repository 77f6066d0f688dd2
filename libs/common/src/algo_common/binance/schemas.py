"""msgspec Structs mirroring Binance spot JSON field for field (spot API docs, 2026).

Field names keep Binance's one-letter keys; each has a comment. Prices and quantities arrive
as JSON strings and are decoded straight into ``Decimal``; a non-numeric price fails decoding.
Unknown extra fields are ignored, as Binance adds fields over time.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

BinanceLevel = tuple[Decimal, Decimal]  # [price, quantity]
BinanceTextLevel = tuple[str, str]  # [price, quantity] as sent: decimal strings, not parsed yet


class BinanceCombinedMessage(msgspec.Struct, frozen=True):
    """Envelope of ``/stream?streams=...``: ``{"stream": name, "data": payload}``."""

    stream: str  # e.g. "btcusdt@depth@100ms", "!serverShutdown"
    data: msgspec.Raw  # payload, decoded by the handler chosen from ``stream``


class BinanceTrade(msgspec.Struct, frozen=True):
    """``<symbol>@trade`` payload."""

    e: str  # event type, "trade"
    E: int  # event time, ms
    s: str  # symbol, upper case
    t: int  # trade id
    p: Decimal  # price
    q: Decimal  # quantity
    T: int  # trade time, ms
    m: bool  # is the buyer the market maker?


class BinanceAggTrade(msgspec.Struct, frozen=True):
    """``<symbol>@aggTrade`` payload (also a row of ``GET /api/v3/aggTrades`` without e/E/s)."""

    a: int  # aggregate trade id
    p: Decimal  # price
    q: Decimal  # quantity
    f: int  # first trade id
    l: int  # last trade id  # noqa: E741 - Binance's key
    T: int  # trade time, ms
    m: bool  # is the buyer the market maker?
    e: str = "aggTrade"  # event type
    E: int = 0  # event time, ms (absent in REST rows)
    s: str = ""  # symbol (absent in REST rows)


class BinanceKlineData(msgspec.Struct, frozen=True):
    """The ``k`` object of a kline event."""

    t: int  # kline open time, ms
    T: int  # kline close time, ms (next open - 1)
    s: str  # symbol
    i: str  # interval, e.g. "1m"
    o: Decimal  # open price
    c: Decimal  # close price
    h: Decimal  # high price
    l: Decimal  # low price  # noqa: E741 - Binance's key
    v: Decimal  # base asset volume
    n: int  # number of trades
    x: bool  # is this kline closed?
    q: Decimal  # quote asset volume
    f: int = -1  # first trade id
    L: int = -1  # last trade id
    V: Decimal = Decimal(0)  # taker buy base asset volume
    Q: Decimal = Decimal(0)  # taker buy quote asset volume


class BinanceKline(msgspec.Struct, frozen=True):
    """``<symbol>@kline_<interval>`` payload."""

    e: str  # event type, "kline"
    E: int  # event time, ms
    s: str  # symbol
    k: BinanceKlineData  # the kline


class BinanceDepthUpdate(msgspec.Struct, frozen=True):
    """``<symbol>@depth`` / ``<symbol>@depth@100ms`` diff payload."""

    e: str  # event type, "depthUpdate"
    E: int  # event time, ms
    s: str  # symbol
    U: int  # first update id in event
    u: int  # final update id in event
    b: list[BinanceLevel]  # bids to update; quantity 0 removes the level
    a: list[BinanceLevel]  # asks to update; quantity 0 removes the level


class BinanceDepthDiff(msgspec.Struct, frozen=True, gc=False):
    """The ``depthUpdate`` payload of :class:`BinanceDepthUpdate` with its levels left as strings.

    For a local book applying tens of thousands of levels a second: a ``Decimal`` per level costs more
    than the rest of the work, so the reader parses each distinct string once (the collector's
    ``LevelStrings``). A level sent as JSON numbers does not fit here: see ``parse.decode_depth_diff``.
    """

    e: str  # event type, "depthUpdate"
    E: int  # event time, ms
    s: str  # symbol
    U: int  # first update id in event
    u: int  # final update id in event
    b: list[BinanceTextLevel]  # bids to update; quantity 0 removes the level
    a: list[BinanceTextLevel]  # asks to update; quantity 0 removes the level


class BinanceBookTicker(msgspec.Struct, frozen=True):
    """``<symbol>@bookTicker`` payload (no ``e``; ``E``/``T`` only on some venues)."""

    u: int  # order book update id
    s: str  # symbol
    b: Decimal  # best bid price
    B: Decimal  # best bid quantity
    a: Decimal  # best ask price
    A: Decimal  # best ask quantity


class BinanceServerShutdown(msgspec.Struct, frozen=True):
    """``serverShutdown`` event: the server will close this connection soon; reconnect."""

    e: str  # event type, "serverShutdown"
    E: int  # event time, ms


class BinanceDepthSnapshot(msgspec.Struct, frozen=True):
    """``GET /api/v3/depth`` response."""

    lastUpdateId: int  # update id the snapshot is valid at  # noqa: N815 - Binance's key
    bids: list[BinanceLevel]  # best first
    asks: list[BinanceLevel]  # best first


BinanceKlineRow = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal, int, Decimal, int, Decimal, Decimal, str]
"""``GET /api/v3/klines`` row: open time, o, h, l, c, volume, close time, quote volume,
trades, taker buy base, taker buy quote, ignore."""


class BinanceServerTime(msgspec.Struct, frozen=True):
    """``GET /api/v3/time`` response."""

    serverTime: int  # ms  # noqa: N815 - Binance's key


class BinanceError(msgspec.Struct, frozen=True):
    """Error body of every REST endpoint: ``{"code": -1121, "msg": "Invalid symbol."}``."""

    code: int
    msg: str
