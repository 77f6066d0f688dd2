"""Bars of any supported interval built from closed klines of a smaller one (1m by default).

Bars are aligned to the UTC epoch like Binance's (bar open = open_time - open_time % interval).
A bar is emitted when its last source kline closes, or, if minutes are missing, when a kline of a
later bar arrives; an unfinished bar is never emitted. Unclosed klines and klines at or before the
last one seen (replays, duplicates) are ignored, so feeding the same input twice emits nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from algo_common.domain.models import Kline
from processor.decimals import EXACT
from processor.intervals import bar_open_time, interval_ms


@dataclass(slots=True)
class _OpenBar:
    """The bar being filled; mutable on purpose, it changes on every kline."""

    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    ts_event: int
    ts_recv: int

    @classmethod
    def start(cls, open_time: int, kline: Kline) -> _OpenBar:
        return cls(
            open_time=open_time,
            open=kline.open,
            high=kline.high,
            low=kline.low,
            close=kline.close,
            volume=kline.volume,
            quote_volume=kline.quote_volume,
            trades=kline.trades,
            ts_event=kline.ts_event,
            ts_recv=kline.ts_recv,
        )

    def add(self, kline: Kline) -> None:
        self.high = max(self.high, kline.high)
        self.low = min(self.low, kline.low)
        self.close = kline.close
        self.volume = EXACT.add(self.volume, kline.volume)
        self.quote_volume = EXACT.add(self.quote_volume, kline.quote_volume)
        self.trades += kline.trades
        self.ts_event = kline.ts_event
        self.ts_recv = kline.ts_recv

    def to_kline(self, symbol: str, interval: str, length_ms: int) -> Kline:
        return Kline(
            symbol=symbol,
            interval=interval,
            open_time=self.open_time,
            close_time=self.open_time + length_ms - 1,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            quote_volume=self.quote_volume,
            trades=self.trades,
            closed=True,
            ts_event=self.ts_event,
            ts_recv=self.ts_recv,
        )


class BarBuilder:
    """Aggregates one symbol's closed ``source_interval`` klines into ``interval`` bars.

    The emitted bar's ``ts_event``/``ts_recv`` are those of the last kline in it (the one that
    closed it), which is what signal latency is measured from.
    """

    def __init__(self, symbol: str, interval: str, source_interval: str = "1m") -> None:
        self.symbol = symbol.upper()
        self.interval = interval
        self.source_interval = source_interval
        self._length_ms = interval_ms(interval)
        self._source_ms = interval_ms(source_interval)
        if self._length_ms % self._source_ms:
            raise ValueError(f"interval {interval} is not a multiple of {source_interval}")
        self._open: _OpenBar | None = None
        self.last_open_time: int | None = None

    def accepts(self, kline: Kline) -> bool:
        """True for a closed kline of this symbol and source interval not seen before."""
        return (
            kline.closed
            and kline.symbol == self.symbol
            and kline.interval == self.source_interval
            and (self.last_open_time is None or kline.open_time > self.last_open_time)
        )

    def resume_after(self, bar_close_time: int) -> None:
        """Continue as if every kline up to the bar closing at ``bar_close_time`` had been fed."""
        self._open = None
        self.last_open_time = bar_close_time + 1 - self._source_ms

    def on_kline(self, kline: Kline) -> list[Kline]:
        """Feed one kline; returns the bars it completed, oldest first (none, one or two)."""
        if not self.accepts(kline):
            return []
        self.last_open_time = kline.open_time
        bars: list[Kline] = []
        open_time = bar_open_time(kline.open_time, self.interval)
        if self._open is not None and self._open.open_time != open_time:
            bars.append(self._emit())
        if self._open is None:
            self._open = _OpenBar.start(open_time, kline)
        else:
            self._open.add(kline)
        if kline.open_time + self._source_ms == open_time + self._length_ms:
            bars.append(self._emit())
        return bars

    def _emit(self) -> Kline:
        assert self._open is not None
        bar = self._open.to_kline(self.symbol, self.interval, self._length_ms)
        self._open = None
        return bar
