"""Binance's local order book procedure for one symbol, as pure decisions (no I/O, time as arguments).

Binance spot docs, "How to manage a local order book correctly" (/work/shared/BINANCE.md §2):
buffer diffs until a REST snapshot arrives; refetch a snapshot older than the first buffered diff
(``lastUpdateId < U``); drop diffs with ``u <= lastUpdateId``; the first applied diff straddles the
snapshot; a later ``U > book id + 1`` means missed events, and the book is rebuilt from a new snapshot.
:class:`SymbolBook` says what to do with each input; :mod:`collector.book_sync` does the fetching.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import msgspec

from algo_common.domain.book import BookGap, CrossedBook
from algo_common.domain.models import BookDelta, BookSnapshot, BookTop, Levels
from collector.level_book import LevelBook


class StepKind(StrEnum):
    BUFFERED = "buffered"  # no book yet: kept until a snapshot arrives
    STALE = "stale"  # already contained in the book (u <= book id): dropped
    APPLIED = "applied"  # the book moved to the diff's final update id
    SYNCED = "synced"  # a snapshot was accepted and the buffered diffs applied
    TOO_OLD = "too_old"  # snapshot lastUpdateId < first buffered U: fetch another one
    RESYNC = "resync"  # the book was discarded; a new snapshot is needed (reason says why)


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    reason: str = ""  # for RESYNC: gap | crossed | ticker_mismatch


class DepthRecord(msgspec.Struct, frozen=True, kw_only=True):
    """N best levels per side of a local book: one document of the ``depth`` collection."""

    symbol: str
    update_id: int
    bids: Levels  # best first
    asks: Levels  # best first
    ts_event: int
    ts_recv: int

    @property
    def event_id(self) -> str:
        return f"{self.symbol}:depth:{self.update_id}"


class TickerCheck:
    """Compares the venue's ``bookTicker`` with the local best prices at the same update id.

    A ticker may arrive before the diff that reaches its ``u`` (it is real time, diffs come every
    100 ms) or after it, so both sides are remembered for a while. A mismatch at the same update
    id proves the local book wrong.
    """

    def __init__(self, memory: int = 1024) -> None:
        self._memory = memory
        self._tops: OrderedDict[int, tuple[Decimal | None, Decimal | None]] = OrderedDict()
        self._pending: OrderedDict[int, BookTop] = OrderedDict()
        self.checked = 0
        self.matched = 0

    def clear(self) -> None:
        self._tops.clear()
        self._pending.clear()

    def on_applied(self, update_id: int, bid: Decimal | None, ask: Decimal | None) -> bool:
        """Record the best prices after a diff; False when a waiting ticker disagrees."""
        self._tops[update_id] = (bid, ask)
        if len(self._tops) > self._memory:
            self._tops.popitem(last=False)
        ticker = self._pending.pop(update_id, None)
        for waiting in [u for u in self._pending if u < update_id]:  # fell inside a diff: never checkable
            del self._pending[waiting]
        return True if ticker is None else self._compare(ticker, bid, ask)

    def on_ticker(self, ticker: BookTop, book_update_id: int | None) -> bool:
        """Check a ticker now or keep it for a later diff; False on a mismatch."""
        known = self._tops.get(ticker.update_id)
        if known is not None:
            return self._compare(ticker, *known)
        if book_update_id is None or ticker.update_id > book_update_id:
            self._pending[ticker.update_id] = ticker
            if len(self._pending) > self._memory:
                self._pending.popitem(last=False)
        return True

    def _compare(self, ticker: BookTop, bid: Decimal | None, ask: Decimal | None) -> bool:
        self.checked += 1
        ok = (ticker.bid_price, ticker.ask_price) == (bid, ask)
        self.matched += ok
        return ok


class SymbolBook:
    """The local book of one symbol and the decisions of Binance's sync procedure."""

    def __init__(self, symbol: str, max_buffer: int = 10_000, ticker_memory: int = 1024) -> None:
        self.symbol = symbol
        self.book: LevelBook | None = None
        self.tickers = TickerCheck(ticker_memory)
        # Oldest diffs fall out when full; the snapshot age check then asks for a newer snapshot.
        self._buffer: deque[BookDelta] = deque(maxlen=max_buffer)
        self._last_top: tuple[Decimal, Decimal, Decimal, Decimal] | None = None
        self.last_ts = (0, 0)  # (ts_event, ts_recv) of what the book last changed on
        self.dropped = 0
        self.applied = 0
        self.gaps = 0

    @property
    def wants_snapshot(self) -> bool:
        """Diffs are buffered and no book exists: time to fetch a snapshot."""
        return self.book is None and bool(self._buffer)

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def reset(self) -> None:
        """Forget the book and the buffer (a new connection or a resync)."""
        self.book = None
        self._buffer.clear()
        self._last_top = None
        self.tickers.clear()

    def on_delta(self, delta: BookDelta) -> Step:
        if self.book is None:
            self._buffer.append(delta)
            return Step(StepKind.BUFFERED)
        try:
            applied = self.book.apply(delta)
        except BookGap:
            self.gaps += 1
            self.reset()
            self._buffer.append(delta)  # the first diff of the next sync attempt
            return Step(StepKind.RESYNC, "gap")
        except CrossedBook:
            self.reset()
            return Step(StepKind.RESYNC, "crossed")
        if not applied:
            self.dropped += 1
            return Step(StepKind.STALE)
        self.applied += 1
        self.last_ts = (delta.ts_event, delta.ts_recv)
        best_bid, best_ask = self.book.best_bid(), self.book.best_ask()
        if not self.tickers.on_applied(
            delta.final_update_id, best_bid[0] if best_bid else None, best_ask[0] if best_ask else None
        ):
            self.reset()
            return Step(StepKind.RESYNC, "ticker_mismatch")
        return Step(StepKind.APPLIED)

    def on_snapshot(self, snapshot: BookSnapshot, ts_recv: int) -> Step:
        """Start the book from ``snapshot`` (received at ``ts_recv``) and apply the buffered diffs."""
        if self._buffer and snapshot.last_update_id < self._buffer[0].first_update_id:
            return Step(StepKind.TOO_OLD)
        pending = list(self._buffer)
        self._buffer.clear()
        self.book = LevelBook(snapshot)
        self.last_ts = (ts_recv, ts_recv)
        for index, delta in enumerate(pending):
            step = self.on_delta(delta)
            if step.kind is StepKind.RESYNC:
                self._buffer.extend(pending[index + 1 :])
                return step
        return Step(StepKind.SYNCED)

    def on_ticker(self, ticker: BookTop) -> Step | None:
        """Cross-check a ``bookTicker``; a RESYNC step when it proves the book wrong."""
        if self.tickers.on_ticker(ticker, self.book.update_id if self.book else None):
            return None
        self.reset()
        return Step(StepKind.RESYNC, "ticker_mismatch")

    def top_if_changed(self) -> BookTop | None:
        """The best bid and ask when they differ from the last top returned (price or quantity)."""
        if self.book is None:
            return None
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid is None or ask is None:
            return None
        top = (bid[0], bid[1], ask[0], ask[1])
        if top == self._last_top:
            return None
        self._last_top = top
        ts_event, ts_recv = self.last_ts
        return BookTop(
            symbol=self.symbol,
            update_id=self.book.update_id,
            bid_price=bid[0],
            bid_qty=bid[1],
            ask_price=ask[0],
            ask_qty=ask[1],
            ts_event=ts_event,
            ts_recv=ts_recv,
        )

    def depth_record(self, levels: int) -> DepthRecord | None:
        """The ``levels`` best levels per side, or None without a book."""
        if self.book is None:
            return None
        ts_event, ts_recv = self.last_ts
        return DepthRecord(
            symbol=self.symbol,
            update_id=self.book.update_id,
            bids=tuple(self.book.bids(levels)),
            asks=tuple(self.book.asks(levels)),
            ts_event=ts_event,
            ts_recv=ts_recv,
        )


class Cadence:
    """Says when a periodic action is due, from timestamps given by the caller."""

    def __init__(self, interval_ms: int) -> None:
        self._interval_ms = interval_ms
        self._last: int | None = None

    def take(self, now_ms: int) -> bool:
        """True (and the period restarts) when ``interval_ms`` passed since the last True."""
        if self._last is not None and now_ms - self._last < self._interval_ms:
            return False
        self._last = now_ms
        return True
