"""The simulated market as a ``Venue``: steps it, answers REST queries from its state."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from algo_common.binance.schemas import BinanceDepthSnapshot, BinanceKlineRow
from exchange_sim.context import SymbolState
from exchange_sim.encoding import fixed8
from exchange_sim.hub import Publication
from exchange_sim.intervals import interval_ms
from exchange_sim.market import Market, MarketEvent
from exchange_sim.schemas import BinanceAggTradeRow
from exchange_sim.streams import stream_names
from exchange_sim.symbols import SymbolSpec


class SimulatedVenue:
    """Adapts :class:`Market` to the handlers; every REST answer is consistent with the streams."""

    def __init__(self, market: Market) -> None:
        self.market = market

    @property
    def kline_interval(self) -> str:
        return self.market.config.interval

    def now_ms(self) -> int:
        return self.market.clock.now_ms()

    def specs(self) -> Sequence[SymbolSpec]:
        return [m.spec for m in self.market.symbols.values()]

    def step(self) -> list[Publication]:
        return [self._publication(event) for event in self.market.step()]

    def steps_done(self) -> int:
        return self.market.steps

    def depth(self, symbol: str, limit: int) -> BinanceDepthSnapshot:
        book = self.market.symbols[symbol].book
        return BinanceDepthSnapshot(
            lastUpdateId=book.last_update_id,
            bids=[(fixed8(p), fixed8(q)) for p, q in book.bids(limit)],
            asks=[(fixed8(p), fixed8(q)) for p, q in book.asks(limit)],
        )

    def klines(
        self, symbol: str, interval: str, start: int | None, end: int | None, limit: int
    ) -> list[BinanceKlineRow]:
        """Rows of ``interval``: ours, or merged from ours when it is a longer multiple; else none."""
        series = self.market.symbols[symbol].bars
        if interval == self.kline_interval:
            bars = series.select(start, end, limit)
        elif interval in {"1w", "1M"} or interval_ms(interval) % series.interval_ms:
            bars = []
        else:
            bars = series.select_aggregated(interval_ms(interval), start, end, limit)
        return [bar.to_row() for bar in bars]

    def agg_trades(
        self, symbol: str, from_id: int | None, start: int | None, end: int | None, limit: int
    ) -> list[BinanceAggTradeRow]:
        return self.market.symbols[symbol].agg_trades(from_id, start, end, limit)

    def state(self) -> list[SymbolState]:
        states = []
        for symbol, m in self.market.symbols.items():
            bid, ask = m.book.best_bid(), m.book.best_ask()
            states.append(
                SymbolState(
                    symbol=symbol,
                    trades_sent=m.trades_count,
                    first_trade_id=m.first_trade_id,
                    last_trade_id=m.last_trade_id,
                    last_update_id=m.book.last_update_id,
                    closed_bars=m.bars.closed_count,
                    last_price=format(fixed8(m.price), "f"),
                    pending_path_bars=len(m.script),
                    best_bid=None if bid is None else format(fixed8(bid[0]), "f"),
                    best_ask=None if ask is None else format(fixed8(ask[0]), "f"),
                )
            )
        return states

    def request_skip(self, symbol: str, count: int) -> None:
        self.market.request_skip(symbol, count)

    def append_path(self, symbol: str, closes: Sequence[Decimal]) -> int:
        return self.market.append_path(symbol, closes)

    def _publication(self, event: MarketEvent) -> Publication:
        return stream_names(event.symbol, event.kind, self.kline_interval), event.payload
