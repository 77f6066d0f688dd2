"""Per-symbol market state and the step that turns it into Binance events.

Pure code, no sockets: ``Market.step()`` advances the simulated clock by one step and returns the
events Binance would push for it, per active symbol and in Binance's order: trades (each also as an
aggTrade), one ``depthUpdate`` diff, a ``bookTicker`` and a kline update (``x`` true on a bar's last
step). Ids only increase: trade ids, aggregate ids and depth update ids (each diff's ``U`` is the
previous ``u`` + 1 unless a gap was requested). Prices follow a seeded random walk or a scripted
list of bar closes; each bar opens at the previous close and closes exactly on its scripted close.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import Literal

import msgspec

from algo_common.binance.schemas import BinanceBookTicker, BinanceDepthUpdate, BinanceKline
from exchange_sim.bars import Bar, BarSeries
from exchange_sim.book import Level, SimBook
from exchange_sim.clock import SimClock
from exchange_sim.encoding import fixed8
from exchange_sim.intervals import SIMULATED_INTERVALS, interval_ms
from exchange_sim.schemas import BinanceAggTradeRow, SimAggTrade, SimTrade
from exchange_sim.symbols import SymbolSpec

StreamKind = Literal["trade", "aggTrade", "kline", "depth", "bookTicker"]
MarketMode = Literal["walk", "path"]

MAX_KEPT_AGG_TRADES = 100_000
"""Aggregate trades kept per symbol for ``GET /api/v3/aggTrades``."""


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One Binance payload produced by a step, for the streams of ``kind`` on ``symbol``."""

    symbol: str
    kind: StreamKind
    payload: msgspec.Struct


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """How the simulated market behaves; see ``SimSettings`` for each field's meaning."""

    symbols: tuple[str, ...] = ("BTCUSDT",)
    mode: MarketMode = "walk"
    seed: int = 1
    interval: str = "1m"
    steps_per_bar: int = 10
    max_trades_per_step: int = 3
    start_price: Decimal = Decimal(30000)
    start_time_ms: int = 1_700_000_000_000
    volatility: float = 0.001
    levels_per_side: int = 20
    path: tuple[Decimal, ...] = ()
    history: Mapping[str, list[Bar]] = field(default_factory=dict)


class SymbolMarket:
    """State of one symbol: last price, true book, bars, trade ids and the scripted closes to come."""

    def __init__(self, spec: SymbolSpec, config: MarketConfig, rng: random.Random, history: list[Bar]) -> None:
        self.spec = spec
        self.symbol = spec.symbol
        self.interval = config.interval
        self.price = self._on_tick(history[-1].close if history else config.start_price)
        self.bars = BarSeries(interval_ms(config.interval), history)
        self.book = SimBook(
            tick_size=spec.tick_size,
            step_size=spec.step_size,
            price=self.price,
            levels_per_side=config.levels_per_side,
            first_update_id=1000,
            rng=rng,
        )
        self.script: deque[Decimal] = deque()
        self.append_path(config.path)
        self.trades_count = 0
        self.first_trade_id: int | None = None
        self.last_trade_id: int | None = None
        self.pending_skip = 0
        self._walk = config.mode == "walk"
        self._volatility = config.volatility
        self._max_trades = config.max_trades_per_step
        self._rng = rng
        self._next_trade_id = 1
        self._agg_trades: list[BinanceAggTradeRow] = []
        self._bar_open_price = self.price
        self._bar_close: Decimal | None = None  # scripted close of the forming bar; None = random walk

    @property
    def active(self) -> bool:
        """Whether a bar is forming (an idle symbol in path mode has no bar and sends nothing)."""
        return self.bars.forming is not None

    def append_path(self, closes: Iterable[Decimal]) -> None:
        """Queue scripted bar closes; each must be positive and on the tick grid."""
        checked = [Decimal(c) for c in closes]
        for close in checked:
            if not close.is_finite() or close <= 0 or close % self.spec.tick_size != 0:
                raise ValueError(f"{self.symbol}: close {close} must be > 0 and a multiple of {self.spec.tick_size}")
        self.script.extend(checked)

    def start_bar(self, open_time: int) -> bool:
        """Open a bar at ``open_time`` if there is a scripted close or the market walks."""
        if self.script:
            self._bar_close = self.script.popleft()
        elif self._walk:
            self._bar_close = None
        else:
            return False
        self._bar_open_price = self.price
        self.bars.forming = Bar.opening(open_time, self.bars.interval_ms, self.price)
        return True

    def step(self, index: int, steps_per_bar: int, base_ms: int) -> list[MarketEvent]:
        """Events of step ``index`` (0-based) of the forming bar; trades start at ``base_ms``."""
        prices = self._trade_prices(self._step_target(index, steps_per_bar), opening=index == 0)
        events: list[MarketEvent] = []
        for offset, price in enumerate(prices):
            events.extend(self._trade(price, base_ms + offset))
        event_ms = base_ms + len(prices)
        if self.pending_skip:
            self.book.hide_changes(self.pending_skip)
            self.pending_skip = 0
        events.append(self._depth_update(event_ms))
        ticker = self._book_ticker()
        if ticker is not None:
            events.append(ticker)
        events.append(self._kline(event_ms, closing=index == steps_per_bar - 1))
        return events

    def agg_trades(
        self, from_id: int | None, start_ms: int | None, end_ms: int | None, limit: int
    ) -> list[BinanceAggTradeRow]:
        """Rows like ``GET /api/v3/aggTrades``: from ``from_id``/``start_ms`` forward, else the latest.

        Ids are consecutive and times ascending, so the window is found by bisection.
        """
        rows = self._agg_trades
        lo = 0
        if from_id is not None:
            lo = bisect_left(rows, from_id, key=attrgetter("a"))
        if start_ms is not None:
            lo = max(lo, bisect_left(rows, start_ms, key=attrgetter("T")))
        hi = len(rows) if end_ms is None else bisect_right(rows, end_ms, key=attrgetter("T"))
        if from_id is not None or start_ms is not None:
            return rows[lo : max(lo, min(hi, lo + limit))]
        return rows[max(lo, hi - limit) : hi]

    def _step_target(self, index: int, steps_per_bar: int) -> Decimal:
        if self._bar_close is None:
            drift = Decimal(repr(self._rng.gauss(0.0, self._volatility)))
            return self._on_tick(self.price * (1 + drift))
        if index == steps_per_bar - 1:
            return self._bar_close
        start, end = self._bar_open_price, self._bar_close
        spread = abs(end - start) + start * Decimal("0.0005")
        noise = spread * Decimal(repr(self._rng.gauss(0.0, 0.25)))
        return self._on_tick(start + (end - start) * (index + 1) / steps_per_bar + noise)

    def _trade_prices(self, target: Decimal, opening: bool) -> list[Decimal]:
        count = self._rng.randint(1, self._max_trades)
        path = [self._on_tick(self.price + (target - self.price) * j / count) for j in range(1, count)]
        return ([self.price] if opening else []) + path + [target]

    def _trade(self, price: Decimal, time_ms: int) -> list[MarketEvent]:
        trade_id = self._next_trade_id
        self._next_trade_id += 1
        qty = self.spec.step_size * self._rng.randint(1, 5000)
        buyer_is_maker = price < self.price or (price == self.price and self._rng.random() < 0.5)
        self.price = price
        self.trades_count += 1
        self.first_trade_id = self.first_trade_id or trade_id
        self.last_trade_id = trade_id
        if self.bars.forming is not None:
            self.bars.forming.add_trade(trade_id, price, qty, buyer_is_maker)
        p, q = fixed8(price), fixed8(qty)
        row = BinanceAggTradeRow(a=trade_id, p=p, q=q, f=trade_id, l=trade_id, T=time_ms, m=buyer_is_maker)
        self._keep(row)
        return [
            MarketEvent(
                self.symbol,
                "trade",
                SimTrade(e="trade", E=time_ms, s=self.symbol, t=trade_id, p=p, q=q, T=time_ms, m=buyer_is_maker),
            ),
            MarketEvent(
                self.symbol,
                "aggTrade",
                SimAggTrade(a=row.a, p=p, q=q, f=row.f, l=row.l, T=time_ms, m=buyer_is_maker, E=time_ms, s=self.symbol),
            ),
        ]

    def _keep(self, row: BinanceAggTradeRow) -> None:
        self._agg_trades.append(row)
        if len(self._agg_trades) > 2 * MAX_KEPT_AGG_TRADES:
            del self._agg_trades[:-MAX_KEPT_AGG_TRADES]

    def _depth_update(self, event_ms: int) -> MarketEvent:
        diff = self.book.requote(self.price)
        payload = BinanceDepthUpdate(
            e="depthUpdate",
            E=event_ms,
            s=self.symbol,
            U=diff.first_update_id,
            u=diff.final_update_id,
            b=_fixed_levels(diff.bids),
            a=_fixed_levels(diff.asks),
        )
        return MarketEvent(self.symbol, "depth", payload)

    def _book_ticker(self) -> MarketEvent | None:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid is None or ask is None:
            return None
        payload = BinanceBookTicker(
            u=self.book.last_update_id,
            s=self.symbol,
            b=fixed8(bid[0]),
            B=fixed8(bid[1]),
            a=fixed8(ask[0]),
            A=fixed8(ask[1]),
        )
        return MarketEvent(self.symbol, "bookTicker", payload)

    def _kline(self, event_ms: int, closing: bool) -> MarketEvent:
        if closing:
            bar = self.bars.close_forming()
            event_ms = bar.close_time + 1
        else:
            assert self.bars.forming is not None
            bar = self.bars.forming
        data = bar.to_kline_data(self.symbol, self.interval)
        return MarketEvent(self.symbol, "kline", BinanceKline(e="kline", E=event_ms, s=self.symbol, k=data))

    def _on_tick(self, price: Decimal) -> Decimal:
        tick = self.spec.tick_size
        return max(tick, (price / tick).to_integral_value() * tick).quantize(tick)


class Market:
    """All simulated symbols on one simulated clock; bars of every symbol share one time grid."""

    def __init__(self, config: MarketConfig) -> None:
        if config.interval not in SIMULATED_INTERVALS:
            raise ValueError(f"kline interval {config.interval!r} cannot be simulated")
        self.config = config
        self.interval_ms = interval_ms(config.interval)
        self.steps_per_bar = config.steps_per_bar
        self.step_ms = self.interval_ms // config.steps_per_bar
        if self.step_ms < config.max_trades_per_step + 2:
            raise ValueError(
                f"{config.steps_per_bar} steps per {config.interval} bar leave {self.step_ms} ms per step; "
                f"need at least {config.max_trades_per_step + 2}"
            )
        self.symbols: dict[str, SymbolMarket] = {}
        for symbol in config.symbols:
            history = config.history.get(symbol, [])
            price = history[-1].close if history else config.start_price
            rng = random.Random(f"{config.seed}:{symbol}")
            self.symbols[symbol] = SymbolMarket(SymbolSpec.derive(symbol, price), config, rng, history)
        ends = [bars[-1].open_time + self.interval_ms for bars in config.history.values() if bars]
        self._bar_open = max(ends) if ends else config.start_time_ms - config.start_time_ms % self.interval_ms
        self._step_in_bar = 0
        self.steps = 0
        self.clock = SimClock(self._bar_open)

    def step(self) -> list[MarketEvent]:
        """Advance one step; return its events (none when every symbol is idle in path mode)."""
        if self._step_in_bar == 0:
            active = [market for market in self.symbols.values() if market.start_bar(self._bar_open)]
        else:
            active = [market for market in self.symbols.values() if market.active]
        if not active:
            return []
        base_ms = self._bar_open + self._step_in_bar * self.step_ms
        events: list[MarketEvent] = []
        for market in active:
            events.extend(market.step(self._step_in_bar, self.steps_per_bar, base_ms))
        self.clock.advance_to(max(_event_time(event) for event in events))
        self.steps += 1
        self._step_in_bar += 1
        if self._step_in_bar == self.steps_per_bar:
            self._step_in_bar = 0
            self._bar_open += self.interval_ms
        return events

    def request_skip(self, symbol: str, count: int = 1) -> None:
        """Make ``symbol``'s next diff skip ``count`` update ids, hiding changes to the true book."""
        if count < 1:
            raise ValueError("skip count must be >= 1")
        self.symbols[symbol].pending_skip += count

    def append_path(self, symbol: str, closes: Iterable[Decimal]) -> int:
        """Queue scripted closes for ``symbol``; return how many are pending."""
        market = self.symbols[symbol]
        market.append_path(closes)
        return len(market.script)


def _fixed_levels(levels: list[Level]) -> list[Level]:
    return [(fixed8(price), fixed8(qty)) for price, qty in levels]


def _event_time(event: MarketEvent) -> int:
    payload = event.payload
    time_ms = getattr(payload, "E", 0)
    return time_ms if isinstance(time_ms, int) else 0
