"""Binance's local order book procedure for one symbol, as pure decisions (no I/O, time as arguments).

Binance spot docs, "How to manage a local order book correctly" (/work/shared/BINANCE.md §2):
buffer diffs until a REST snapshot arrives; refetch a snapshot older than the first buffered diff
(``lastUpdateId < U``); drop diffs with ``u <= lastUpdateId``; the first applied diff straddles the
snapshot; a later ``U > book id + 1`` means missed events, and the book is rebuilt from a new snapshot.
:class:`SymbolBook` says what to do with each input; :mod:`collector.book_sync` does the fetching.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import islice

import msgspec

from algo_common.domain.book import BookGap, CrossedBook
from algo_common.domain.models import BookSnapshot, BookTop, Levels
from algo_common.errors import BadMessage
from collector.level_book import DepthDiff, LevelBook, LevelStrings


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
    reason: str = ""  # for RESYNC: gap | crossed | ticker_mismatch | bad_diff | bad_snapshot


# Steps are values: one instance each, not one per diff.
_BUFFERED, _STALE, _APPLIED = Step(StepKind.BUFFERED), Step(StepKind.STALE), Step(StepKind.APPLIED)
_SYNCED, _TOO_OLD = Step(StepKind.SYNCED), Step(StepKind.TOO_OLD)
_GAP, _CROSSED = Step(StepKind.RESYNC, "gap"), Step(StepKind.RESYNC, "crossed")
_MISMATCH, BAD_DIFF = Step(StepKind.RESYNC, "ticker_mismatch"), Step(StepKind.RESYNC, "bad_diff")
_BAD_SNAPSHOT = Step(StepKind.RESYNC, "bad_snapshot")


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


Top = tuple[int | None, int | None]
"""Best bid and ask in ticks (None: that side is empty)."""


class TickerCheck:
    """Compares the venue's ``bookTicker`` with the local best prices at the same update id.

    A ticker may arrive before the diff that reaches its ``u`` (it is real time, diffs come every
    100 ms) or after it, so both sides are remembered for a while. A mismatch at the same update
    id proves the local book wrong. Prices are compared in ticks (:class:`LevelStrings`).
    """

    def __init__(self, strings: LevelStrings, memory: int = 1024) -> None:
        self._strings = strings
        self._memory = memory
        self._tops: dict[int, Top] = {}  # insertion order = update order: the oldest is first
        self._pending: dict[int, BookTop] = {}
        self.checked = 0
        self.matched = 0

    def clear(self) -> None:
        self._tops.clear()
        self._pending.clear()

    def on_applied(self, update_id: int, top: Top) -> bool:
        """Record the best prices after a diff; False when a waiting ticker disagrees."""
        tops = self._tops
        tops[update_id] = top
        if len(tops) > 2 * self._memory:  # keep the newest, in one step (deleting the first key one
            # at a time makes every next(iter()) skip the holes left at the front of the dict)
            self._tops = dict(islice(tops.items(), len(tops) - self._memory, None))
        if not self._pending:
            return True
        ticker = self._pending.pop(update_id, None)
        for waiting in [u for u in self._pending if u < update_id]:  # fell inside a diff: never checkable
            del self._pending[waiting]
        return True if ticker is None else self._compare(ticker, top)

    def on_ticker(self, ticker: BookTop, book_update_id: int | None) -> bool:
        """Check a ticker now or keep it for a later diff; False on a mismatch."""
        known = self._tops.get(ticker.update_id)
        if known is not None:
            return self._compare(ticker, known)
        if book_update_id is None or ticker.update_id > book_update_id:
            self._pending[ticker.update_id] = ticker
            if len(self._pending) > self._memory:
                del self._pending[next(iter(self._pending))]
        return True

    def _compare(self, ticker: BookTop, top: Top) -> bool:
        self.checked += 1
        ok = (self._ticks(ticker.bid_price), self._ticks(ticker.ask_price)) == top
        self.matched += ok
        return ok

    def _ticks(self, price: Decimal) -> int:
        ticks = self._strings.ticks_of(price)
        return -1 if ticks is None else ticks  # a price no book holds: equal to no book side


class SymbolBook:
    """The local book of one symbol and the decisions of Binance's sync procedure."""

    def __init__(
        self,
        symbol: str,
        max_buffer: int = 10_000,
        ticker_memory: int = 1024,
        strings: LevelStrings | None = None,
    ) -> None:
        self.symbol = symbol
        self.strings = strings or LevelStrings()  # the feed's tables: the strings of a diff are known
        self.book: LevelBook | None = None
        self.tickers = TickerCheck(self.strings, ticker_memory)
        # Oldest diffs fall out when full; the snapshot age check then asks for a newer snapshot.
        self._buffer: deque[DepthDiff] = deque(maxlen=max_buffer)
        self._last_top: tuple[int, str, int, str] | None = None  # ticks and quantity texts
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

    def on_delta(self, diff: DepthDiff) -> Step:
        """Apply or buffer one diff; :class:`BadMessage` for a diff with a bad level.

        A bad diff leaves no book (one it half updated is discarded: :data:`BAD_DIFF`); dropping it
        would leave a hole in the update ids anyway. A buffered diff is checked as it is buffered.
        """
        book = self.book
        if book is None:
            bids, asks = self.strings.check_sides(diff.bids, diff.asks)
            if bids is not diff.bids or asks is not diff.asks:
                diff = msgspec.structs.replace(diff, bids=bids, asks=asks)
            self._buffer.append(diff)
            return _BUFFERED
        try:
            applied = book.apply(diff)
        except BookGap:
            self.gaps += 1
            self.reset()
            self._buffer.append(diff)  # the first diff of the next sync attempt
            return _GAP
        except CrossedBook:
            self.reset()
            return _CROSSED
        except BadMessage:  # a bad level, found as the book applied the diff: maybe half updated
            self.reset()
            raise
        if not applied:
            self.dropped += 1
            return _STALE
        self.applied += 1
        self.last_ts = (diff.ts_event, diff.ts_recv)
        if not self.tickers.on_applied(diff.final_update_id, (book.bid, book.ask)):
            self.reset()
            return _MISMATCH
        return _APPLIED

    def on_snapshot(self, snapshot: BookSnapshot, ts_recv: int) -> Step:
        """Start the book from ``snapshot`` (received at ``ts_recv``) and apply the buffered diffs."""
        if self._buffer and snapshot.last_update_id < self._buffer[0].first_update_id:
            return _TOO_OLD
        try:
            book = LevelBook(snapshot, self.strings)
        except BadMessage:  # a level no book can hold (e.g. more than 18 decimals): fetch another
            return _BAD_SNAPSHOT
        pending = list(self._buffer)
        self._buffer.clear()
        self.book = book
        self.last_ts = (ts_recv, ts_recv)
        for index, diff in enumerate(pending):
            try:
                step = self.on_delta(diff)
            except BadMessage:  # checked when buffered, so not expected: start over from a new snapshot
                step = BAD_DIFF
            if step.kind is StepKind.RESYNC:
                self._buffer.extend(pending[index + 1 :])
                return step
        return _SYNCED

    def on_ticker(self, ticker: BookTop) -> Step | None:
        """Cross-check a ``bookTicker``; a RESYNC step when it proves the book wrong."""
        if self.tickers.on_ticker(ticker, self.book.update_id if self.book else None):
            return None
        self.reset()
        return _MISMATCH

    def top_if_changed(self) -> BookTop | None:
        """The best bid and ask when they differ from the last top returned (price or quantity)."""
        book = self.book
        if book is None or book.bid is None or book.ask is None:
            return None
        top, last = (book.bid, book.bid_qty(), book.ask, book.ask_qty()), self._last_top
        if top == last:
            return None
        self._last_top = top
        bid_qty, ask_qty = Decimal(top[1]), Decimal(top[3])
        if last is not None and top[::2] == last[::2] and (bid_qty, ask_qty) == (Decimal(last[1]), Decimal(last[3])):
            return None  # the same quantities spelled otherwise ("1.0", "1.00000000")
        ts_event, ts_recv = self.last_ts
        price = self.strings.price
        return BookTop(
            symbol=self.symbol,
            update_id=book.update_id,
            bid_price=price(top[0]),
            bid_qty=bid_qty,
            ask_price=price(top[2]),
            ask_qty=ask_qty,
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
