"""The trading side's view of the market, and the hook that shows it every market trade.

``MatchingVenue`` wraps whichever ``Venue`` the simulator runs (walk, path or replay) and passes
each ``<symbol>@trade`` it publishes to a callback, so resting LIMIT orders fill as the market
trades through them, in the same step, before the step's frames go out. Everything else is
delegated unchanged (unknown attributes too, e.g. ``SimulatedVenue.market``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import msgspec

from algo_common.binance.schemas import BinanceDepthSnapshot, BinanceKlineRow, BinanceTrade
from exchange_sim.context import SymbolState, Venue
from exchange_sim.hub import Publication
from exchange_sim.schemas import BinanceAggTradeRow
from exchange_sim.symbols import SymbolSpec
from exchange_sim.trading.matching import Level

MAX_BOOK_LEVELS = 5000
TradeCallback = Callable[[str, Decimal, Decimal], object]
_trade_decoder = msgspec.json.Decoder(BinanceTrade)


class MatchingVenue:
    """A ``Venue`` that reports its trades to the trading engine."""

    def __init__(self, inner: Venue) -> None:
        self.inner = inner
        self.on_trade: TradeCallback | None = None

    def __getattr__(self, name: str) -> object:
        if name == "inner":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def kline_interval(self) -> str:
        return self.inner.kline_interval

    def now_ms(self) -> int:
        return self.inner.now_ms()

    def specs(self) -> Sequence[SymbolSpec]:
        return self.inner.specs()

    def step(self) -> list[Publication]:
        publications = self.inner.step()
        if self.on_trade is not None:
            for names, payload in publications:
                if any(name.endswith("@trade") for name in names):
                    trade = payload if isinstance(payload, BinanceTrade) else _decode_trade(payload)
                    if trade is not None:
                        self.on_trade(trade.s, trade.p, trade.q)
        return publications

    def steps_done(self) -> int:
        return self.inner.steps_done()

    def depth(self, symbol: str, limit: int) -> BinanceDepthSnapshot:
        return self.inner.depth(symbol, limit)

    def klines(
        self, symbol: str, interval: str, start: int | None, end: int | None, limit: int
    ) -> list[BinanceKlineRow]:
        return self.inner.klines(symbol, interval, start, end, limit)

    def agg_trades(
        self, symbol: str, from_id: int | None, start: int | None, end: int | None, limit: int
    ) -> list[BinanceAggTradeRow]:
        return self.inner.agg_trades(symbol, from_id, start, end, limit)

    def state(self) -> list[SymbolState]:
        return self.inner.state()

    def request_skip(self, symbol: str, count: int) -> None:
        self.inner.request_skip(symbol, count)

    def append_path(self, symbol: str, closes: Sequence[Decimal]) -> int:
        return self.inner.append_path(symbol, closes)


def _decode_trade(payload: object) -> BinanceTrade | None:
    if not isinstance(payload, msgspec.Raw):
        return None
    try:
        return _trade_decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class VenueMarketView:
    """``engine.MarketView`` over a ``Venue``: the book from its depth snapshot, price from its state."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue

    def spec(self, symbol: str) -> SymbolSpec | None:
        return next((s for s in self.venue.specs() if s.symbol == symbol), None)

    def levels(self, symbol: str, side: str) -> list[Level]:
        book = self.venue.depth(symbol, MAX_BOOK_LEVELS)
        return list(book.asks if side == "BUY" else book.bids)

    def last_price(self, symbol: str) -> Decimal:
        state = next((s for s in self.venue.state() if s.symbol == symbol), None)
        return Decimal(state.last_price) if state is not None else Decimal(0)
