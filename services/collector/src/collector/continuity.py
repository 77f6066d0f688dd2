"""Per-symbol watermarks of trades and klines: drop what was already seen, report what was missed.

Binance numbers a symbol's trades (and aggregate trades) consecutively, and klines of one interval
open on a fixed grid. So the last trade id and the last kline seen are enough to tell, for every
new event, whether it repeats one already handled (two connections overlapping during a rotation,
a replayed frame) or skips some (a reconnect, a stall, a dropped frame): a skip becomes a
:class:`Gap` that the backfill fetches from REST, bounded on both sides, so nothing is written twice.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from algo_common.domain.models import Kline, Trade

INTERVAL_MS: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}
"""Fixed-length kline intervals; ``1M`` (calendar months) has no fixed length and is never gap-checked."""


class GapKind(StrEnum):
    TRADES = "trades"  # first..last are trade ids (inclusive)
    KLINES = "klines"  # first..last are kline open times (inclusive)


@dataclass(frozen=True, slots=True)
class Gap:
    """Events of ``symbol`` that never arrived: trade ids or kline open times ``first..last`` (inclusive)."""

    symbol: str
    kind: GapKind
    first: int
    last: int
    interval: str = ""  # klines only

    @property
    def size(self) -> int:
        """Trades missing, or kline open times spanned (in ms) for klines."""
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class Verdict:
    """``fresh``: handle the event; ``gap``: events before it that were missed (to backfill)."""

    fresh: bool
    gap: Gap | None = None


DUPLICATE = Verdict(False)
FRESH = Verdict(True)


class Continuity:
    """Watermarks of every symbol of one collector; created empty or seeded from storage."""

    def __init__(self) -> None:
        self._trade: dict[str, int] = {}  # symbol -> last trade id
        self._kline: dict[tuple[str, str], tuple[int, bool, int]] = {}  # (symbol, interval) -> (t, x, E)
        self._closed: dict[tuple[str, str], int] = {}  # (symbol, interval) -> open time of the last closed kline
        self.duplicates = 0

    def seed_trade(self, symbol: str, trade_id: int) -> None:
        """Trades up to ``trade_id`` are stored already (e.g. read from MongoDB at start)."""
        self._trade[symbol] = max(trade_id, self._trade.get(symbol, trade_id))

    def seed_kline(self, symbol: str, interval: str, open_time: int) -> None:
        """Closed klines up to ``open_time`` are stored already."""
        key = (symbol, interval)
        self._closed[key] = max(open_time, self._closed.get(key, open_time))
        self._kline[key] = max((open_time, True, 0), self._kline.get(key, (open_time, True, 0)))

    def last_trade_id(self, symbol: str) -> int | None:
        return self._trade.get(symbol)

    def on_trade(self, trade: Trade) -> Verdict:
        last = self._trade.get(trade.symbol)
        if last is not None and trade.trade_id <= last:
            self.duplicates += 1
            return DUPLICATE
        self._trade[trade.symbol] = trade.trade_id
        if last is None or trade.trade_id == last + 1:
            return FRESH
        return Verdict(True, Gap(trade.symbol, GapKind.TRADES, last + 1, trade.trade_id - 1))

    def on_kline(self, kline: Kline) -> Verdict:
        """Updates of a bar in order (open time, closed flag, event time).

        Any update of bar ``t`` proves every bar before ``t`` closed (Binance sends a bar's final
        update before the next bar's first), so closed bars after the last one seen and before ``t``
        that never arrived are a gap: found on the first update after a reconnect, not a bar later.
        """
        key = (kline.symbol, kline.interval)
        mark = (kline.open_time, kline.closed, kline.ts_event)
        previous = self._kline.get(key)
        if previous is not None and mark <= previous:
            self.duplicates += 1
            return DUPLICATE
        self._kline[key] = mark
        last_closed = self._closed.get(key)
        step = INTERVAL_MS.get(kline.interval)
        if kline.closed:
            self._closed[key] = kline.open_time
        if last_closed is None or step is None:
            return FRESH
        before = kline.open_time - step
        if before <= last_closed:
            return FRESH
        if not kline.closed:
            self._closed[key] = before
        return Verdict(True, Gap(kline.symbol, GapKind.KLINES, last_closed + step, before, kline.interval))


class Holes:
    """Trades and closed klines that fell off a full MongoDB buffer, as ranges to backfill into MongoDB.

    Drops at a full buffer take the newest events, so per symbol they form one range that only
    grows while the buffer stays full; :meth:`take` hands the ranges over once there is room.
    """

    def __init__(self) -> None:
        self._trades: dict[str, tuple[int, int]] = {}
        self._klines: dict[tuple[str, str], tuple[int, int]] = {}

    def __bool__(self) -> bool:
        return bool(self._trades or self._klines)

    def add(self, event: Trade | Kline) -> None:
        if isinstance(event, Trade):
            self._trades[event.symbol] = _widen(self._trades.get(event.symbol), event.trade_id)
        elif event.interval in INTERVAL_MS:
            key = (event.symbol, event.interval)
            self._klines[key] = _widen(self._klines.get(key), event.open_time)

    def take(self) -> list[Gap]:
        gaps = [Gap(symbol, GapKind.TRADES, lo, hi) for symbol, (lo, hi) in self._trades.items()]
        gaps += [Gap(s, GapKind.KLINES, lo, hi, interval) for (s, interval), (lo, hi) in self._klines.items()]
        self._trades.clear()
        self._klines.clear()
        return gaps


def _widen(bounds: tuple[int, int] | None, value: int) -> tuple[int, int]:
    return (value, value) if bounds is None else (min(bounds[0], value), max(bounds[1], value))
