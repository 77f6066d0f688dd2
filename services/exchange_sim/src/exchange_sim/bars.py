"""Kline bars: built from simulated trades, loaded from a CSV history, selected like Binance.

Binance identifies a kline by its open time; ``T`` is the next bar's open minus 1 ms. The REST
``klines`` endpoint returns closed bars plus the one still forming, oldest first.
"""

from __future__ import annotations

import csv
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from algo_common.binance.schemas import BinanceKlineRow
from exchange_sim.encoding import fixed8
from exchange_sim.schemas import SimKlineData

MAX_KEPT_BARS = 200_000
"""Closed bars kept per symbol; older ones are forgotten so a long run cannot exhaust memory."""


@dataclass(slots=True)
class Bar:
    """One kline; ``first_trade_id``/``last_trade_id`` are -1 for bars without simulated trades."""

    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    trades: int = 0
    taker_buy_base: Decimal = Decimal(0)
    taker_buy_quote: Decimal = Decimal(0)
    first_trade_id: int = -1
    last_trade_id: int = -1
    closed: bool = False

    @classmethod
    def opening(cls, open_time: int, interval_ms: int, price: Decimal) -> Bar:
        """An empty bar whose open, high, low and close are ``price``."""
        return cls(open_time, open_time + interval_ms - 1, price, price, price, price)

    def add_trade(self, trade_id: int, price: Decimal, qty: Decimal, buyer_is_maker: bool) -> None:
        """Account one trade; the first trade of a bar sets its open."""
        if self.trades == 0:
            self.open = self.high = self.low = price
            self.first_trade_id = trade_id
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.volume += qty
        self.quote_volume += price * qty
        if not buyer_is_maker:  # the buyer took liquidity
            self.taker_buy_base += qty
            self.taker_buy_quote += price * qty
        self.trades += 1
        self.last_trade_id = trade_id

    def to_row(self) -> BinanceKlineRow:
        """The 12-element ``GET /api/v3/klines`` row."""
        return (
            self.open_time,
            fixed8(self.open),
            fixed8(self.high),
            fixed8(self.low),
            fixed8(self.close),
            fixed8(self.volume),
            self.close_time,
            fixed8(self.quote_volume),
            self.trades,
            fixed8(self.taker_buy_base),
            fixed8(self.taker_buy_quote),
            "0",
        )

    def to_kline_data(self, symbol: str, interval: str) -> SimKlineData:
        """The ``k`` object of a kline stream event."""
        return SimKlineData(
            t=self.open_time,
            T=self.close_time,
            s=symbol,
            i=interval,
            f=self.first_trade_id,
            L=self.last_trade_id,
            o=fixed8(self.open),
            c=fixed8(self.close),
            h=fixed8(self.high),
            l=fixed8(self.low),
            v=fixed8(self.volume),
            n=self.trades,
            x=self.closed,
            q=fixed8(self.quote_volume),
            V=fixed8(self.taker_buy_base),
            Q=fixed8(self.taker_buy_quote),
        )


class BarSeries:
    """Closed bars (oldest first, bounded) plus the bar being formed."""

    def __init__(self, interval_ms: int, history: list[Bar] | None = None, max_kept: int = MAX_KEPT_BARS) -> None:
        self.interval_ms = interval_ms
        self._closed: list[Bar] = list(history or [])
        self._max_kept = max_kept
        self.forming: Bar | None = None
        self.closed_count = len(self._closed)

    @property
    def last_closed(self) -> Bar | None:
        return self._closed[-1] if self._closed else None

    def close_forming(self) -> Bar:
        """Close the forming bar and keep it; return it."""
        if self.forming is None:
            raise RuntimeError("no bar is forming")
        bar = self.forming
        bar.closed = True
        self._closed.append(bar)
        self.closed_count += 1
        if len(self._closed) > 2 * self._max_kept:
            del self._closed[: len(self._closed) - self._max_kept]
        self.forming = None
        return bar

    def select(self, start: int | None, end: int | None, limit: int) -> list[Bar]:
        """Bars like ``GET /api/v3/klines``: by open time, inclusive bounds, oldest first.

        With ``start`` the first ``limit`` bars from it; otherwise the last ``limit`` bars up to ``end``.
        Bisects the closed bars, so a long run still answers quickly.
        """
        closed = self._closed
        lo = 0 if start is None else bisect_left(closed, start, key=_open_time)
        hi = len(closed) if end is None else bisect_right(closed, end, key=_open_time)
        forming = self.forming
        if forming is not None and not (
            (start is None or forming.open_time >= start) and (end is None or forming.open_time <= end)
        ):
            forming = None
        if start is not None:
            chosen = closed[lo : min(hi, lo + limit)]
            if forming is not None and len(chosen) < limit:
                chosen.append(forming)
            return chosen
        room = limit - (forming is not None)
        chosen = closed[max(lo, hi - room) : hi] if room > 0 else []
        return [*chosen, forming] if forming is not None else chosen

    def select_aggregated(self, target_ms: int, start: int | None, end: int | None, limit: int) -> list[Bar]:
        """Bars of a longer interval (a multiple of ours) merged from ours, aligned to the epoch.

        A merged bar is closed once a later one exists or its last part closed at its close time.
        """
        parts_per_bar = target_ms // self.interval_ms
        base_start = None if start is None else start - start % target_ms
        base_end = None if end is None else end - end % target_ms + target_ms - 1
        groups: list[tuple[Bar, Bar]] = []  # (merged bar, its latest part)
        for bar in self.select(base_start, base_end, (limit + 1) * parts_per_bar):
            open_time = bar.open_time - bar.open_time % target_ms
            if groups and groups[-1][0].open_time == open_time:
                _merge_into(groups[-1][0], bar)
                groups[-1] = (groups[-1][0], bar)
            else:
                groups.append((replace(bar, open_time=open_time, close_time=open_time + target_ms - 1), bar))
        for index, (merged, last) in enumerate(groups):
            merged.closed = index < len(groups) - 1 or (last.closed and last.close_time == merged.close_time)
        window = BarSeries(target_ms, [merged for merged, _ in groups if merged.closed], self._max_kept)
        window.forming = next((merged for merged, _ in groups if not merged.closed), None)
        return window.select(start, end, limit)


def _open_time(bar: Bar) -> int:
    return bar.open_time


def _merge_into(into: Bar, bar: Bar) -> None:
    into.high = max(into.high, bar.high)
    into.low = min(into.low, bar.low)
    into.close = bar.close
    into.volume += bar.volume
    into.quote_volume += bar.quote_volume
    into.trades += bar.trades
    into.taker_buy_base += bar.taker_buy_base
    into.taker_buy_quote += bar.taker_buy_quote
    if into.first_trade_id == -1:
        into.first_trade_id = bar.first_trade_id
    if bar.last_trade_id != -1:
        into.last_trade_id = bar.last_trade_id


def load_history_csv(path: Path, interval_ms: int) -> list[Bar]:
    """Closed bars from a CSV with header ``open_time_ms,open,high,low,close,volume``.

    Rows must be ascending and on the ``interval_ms`` grid (gaps allowed, as in real data);
    quote volume is estimated as volume x close because the file does not carry it.
    """
    bars: list[Bar] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        expected = ["open_time_ms", "open", "high", "low", "close", "volume"]
        if reader.fieldnames is None or list(reader.fieldnames)[:6] != expected:
            raise ValueError(f"{path}: header must start with {','.join(expected)}, got {reader.fieldnames}")
        for line_no, row in enumerate(reader, start=2):
            bars.append(_bar_from_row(path, line_no, row, interval_ms))
            if len(bars) > 1 and bars[-1].open_time <= bars[-2].open_time:
                raise ValueError(f"{path}:{line_no}: open times must be strictly ascending")
    for bar in bars:
        if bar.open_time % interval_ms:
            raise ValueError(f"{path}: bar {bar.open_time} is not on the {interval_ms} ms kline grid")
    return bars


def _bar_from_row(path: Path, line_no: int, row: dict[str, str], interval_ms: int) -> Bar:
    try:
        open_time = int(row["open_time_ms"])
        o, h, low, c, v = (Decimal(row[key]) for key in ("open", "high", "low", "close", "volume"))
    except (ValueError, InvalidOperation, KeyError, TypeError) as e:
        raise ValueError(f"{path}:{line_no}: malformed row {row}") from e
    if not (low <= min(o, c) and h >= max(o, c) and low > 0 and v >= 0):
        raise ValueError(f"{path}:{line_no}: inconsistent bar {row}")
    return Bar(open_time, open_time + interval_ms - 1, o, h, low, c, v, v * c, closed=True)
