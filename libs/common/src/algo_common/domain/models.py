"""Domain events and records shared by every service.

Frozen msgspec Structs: cheap to build, typed, and encoded to the same JSON everywhere.
Money (prices, quantities, fees) is always ``Decimal``; times are integer epoch milliseconds.
Every event carries two clocks: ``ts_event`` (venue time) and ``ts_recv`` (when we received it).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

import msgspec

Levels = tuple[tuple[Decimal, Decimal], ...]
"""Order-book levels as (price, quantity); quantity 0 removes a level."""


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Trade(msgspec.Struct, frozen=True, tag="trade", kw_only=True):
    """One exchange trade (Binance ``<symbol>@trade``)."""

    symbol: str
    trade_id: int
    price: Decimal
    qty: Decimal
    buyer_is_maker: bool
    ts_trade: int
    ts_event: int
    ts_recv: int

    @property
    def event_id(self) -> str:
        return f"{self.symbol}:trade:{self.trade_id}"


class Kline(msgspec.Struct, frozen=True, tag="kline", kw_only=True):
    """One candlestick; only ``closed`` klines are final and may drive a strategy."""

    symbol: str
    interval: str
    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    closed: bool
    ts_event: int
    ts_recv: int

    @property
    def event_id(self) -> str:
        return f"{self.symbol}:kline:{self.interval}:{self.open_time}"


class BookTop(msgspec.Struct, frozen=True, tag="book_top", kw_only=True):
    """Best bid and ask of the local order book after update ``update_id``."""

    symbol: str
    update_id: int
    bid_price: Decimal
    bid_qty: Decimal
    ask_price: Decimal
    ask_qty: Decimal
    ts_event: int
    ts_recv: int

    @property
    def event_id(self) -> str:
        return f"{self.symbol}:book_top:{self.update_id}"


class BookDelta(msgspec.Struct, frozen=True, kw_only=True):
    """A diff-depth update covering venue update ids ``first_update_id..final_update_id``."""

    symbol: str
    first_update_id: int
    final_update_id: int
    bids: Levels
    asks: Levels
    ts_event: int
    ts_recv: int


class BookSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A full book from REST, valid as of venue update id ``last_update_id``."""

    symbol: str
    last_update_id: int
    bids: Levels
    asks: Levels


MarketEvent = Trade | Kline | BookTop
"""What travels on the ``market.{SYMBOL}`` streams."""


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy decision with everything needed to explain it later."""

    signal_id: str
    strategy: str
    strategy_version: str
    params: dict[str, str]
    symbol: str
    interval: str
    side: Side
    price: Decimal
    quantity: Decimal
    indicators: dict[str, Decimal]
    bar_open_time: int
    bar_close_time: int
    ts_event: int
    ts_decision: int


class OrderStatus(StrEnum):
    SUBMITTING = "SUBMITTING"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """One execution of an order."""

    fill_id: str
    client_order_id: str
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    ts: int
