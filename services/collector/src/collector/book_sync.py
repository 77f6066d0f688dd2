"""Keeps every symbol's local book in sync: snapshot fetches, resyncs, book tops and depth records.

The decisions are :class:`collector.book_state.SymbolBook`'s; this module adds what needs I/O or
time: one snapshot-fetch task per symbol (retried with backoff), the resync metric and logs, and
handing :class:`BookTop` (when the top changes) and :class:`DepthRecord` (every persist interval)
to the sinks. Every method except the fetch task is synchronous, so the reader never waits here.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from typing import Protocol

from algo_common.domain.models import BookSnapshot, BookTop
from algo_common.errors import AlgoTradeError, BadMessage, RateLimited
from algo_common.logging import get_logger
from algo_common.retry import backoff_delay
from collector.book_state import BAD_DIFF, Cadence, DepthRecord, Step, StepKind, SymbolBook
from collector.level_book import DepthDiff, LevelStrings
from collector.metrics import CollectorMetrics

log = get_logger(__name__)

BookOutput = BookTop | DepthRecord
Emit = Callable[[BookOutput], None]


class SnapshotSource(Protocol):
    async def fetch(self, symbol: str) -> tuple[BookSnapshot, int]:
        """A REST depth snapshot of ``symbol`` and its receive time (ms)."""
        ...


class BookSync:
    """All symbols' books of one connection supervisor."""

    def __init__(
        self,
        symbols: Iterable[str],
        source: SnapshotSource,
        emit: Emit,
        metrics: CollectorMetrics,
        *,
        persist_interval_s: float,
        persist_levels: int,
        max_buffer: int,
        retry_base_s: float,
        retry_cap_s: float,
        rng: random.Random | None = None,
        strings: LevelStrings | None = None,
    ) -> None:
        strings = strings or LevelStrings()  # one set of tables for all the books
        self.books = {symbol: SymbolBook(symbol, max_buffer, strings=strings) for symbol in symbols}
        self._cadence = {symbol: Cadence(round(persist_interval_s * 1000)) for symbol in self.books}
        self._source = source
        self._emit = emit
        self._metrics = metrics
        self._persist_levels = persist_levels
        self._retry = (retry_base_s, retry_cap_s)
        self._rng = rng
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def on_connect(self, first: bool, symbols: Iterable[str] | None = None) -> None:
        """A fresh connection: the books of its symbols (default: all) start over from a new snapshot."""
        names = self._reset(symbols)
        if not first:
            for symbol in names:
                self._metrics.book_resyncs.add(1, {"symbol": symbol, "reason": "reconnect"})

    def on_disconnect(self, symbols: Iterable[str] | None = None) -> None:
        """Diffs of the connection's symbols (default: all) are missing from now on: stop fetching and
        publishing their books until that connection is back."""
        self._reset(symbols)

    def on_delta(self, diff: DepthDiff) -> None:
        """Apply one diff; :class:`BadMessage` (after the resync is under way) for a bad level."""
        book = self.books[diff.symbol]
        live = book.book is not None
        try:
            step = book.on_delta(diff)
        except BadMessage:
            if live:  # the book was discarded: count the resync (the next diff asks for a snapshot)
                self._after(book, BAD_DIFF)
            raise
        if step.kind is StepKind.APPLIED:  # the common case, without the snapshot-task check
            self._publish(book)
        else:
            self._after(book, step)

    def on_ticker(self, ticker: BookTop) -> None:
        book = self.books[ticker.symbol]
        step = book.on_ticker(ticker)
        if step is not None:
            self._after(book, step)

    async def aclose(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    def _reset(self, symbols: Iterable[str] | None) -> list[str]:
        names = list(self.books) if symbols is None else list(symbols)
        for symbol in names:
            task = self._tasks.pop(symbol, None)
            if task is not None:
                task.cancel()
            self.books[symbol].reset()
        return names

    def _after(self, book: SymbolBook, step: Step) -> None:
        if step.kind is StepKind.RESYNC:
            self._metrics.book_resyncs.add(1, {"symbol": book.symbol, "reason": step.reason})
            log.warning("book resync", symbol=book.symbol, reason=step.reason, buffered=book.buffered)
        elif step.kind in (StepKind.APPLIED, StepKind.SYNCED):
            self._publish(book)
        task = self._tasks.get(book.symbol)
        if book.wants_snapshot and (task is None or task.done()):
            self._tasks[book.symbol] = asyncio.create_task(self._sync(book), name=f"book-sync-{book.symbol}")

    def _publish(self, book: SymbolBook) -> None:
        top = book.top_if_changed()
        if top is not None:
            self._emit(top)
        if self._cadence[book.symbol].take(book.last_ts[1]):
            record = book.depth_record(self._persist_levels)
            if record is not None:
                self._emit(record)

    async def _sync(self, book: SymbolBook) -> None:
        """Fetch snapshots until one fits the buffered diffs (Binance steps 2-5)."""
        attempt = 0
        while book.book is None:
            try:
                snapshot, ts_recv = await self._source.fetch(book.symbol)
            except AlgoTradeError as e:
                self._metrics.dependency_errors.add(1, {"dependency": "binance_rest"})
                delay = backoff_delay(attempt, *self._retry, rng=self._rng)
                if isinstance(e, RateLimited):
                    delay = max(delay, e.retry_after_s)
                log.warning("depth snapshot failed", symbol=book.symbol, error=str(e), retry_in_s=round(delay, 3))
            else:
                step = book.on_snapshot(snapshot, ts_recv)
                log.info("depth snapshot", symbol=book.symbol, last_update_id=snapshot.last_update_id, step=step.kind)
                self._after_snapshot(book, step)
                if book.book is not None:
                    return
                delay = backoff_delay(attempt, *self._retry, rng=self._rng)
            attempt += 1
            await asyncio.sleep(delay)

    def _after_snapshot(self, book: SymbolBook, step: Step) -> None:
        if step.kind is StepKind.SYNCED:
            self._publish(book)
        elif step.kind is StepKind.RESYNC:
            self._metrics.book_resyncs.add(1, {"symbol": book.symbol, "reason": step.reason})
            log.warning("book resync while syncing", symbol=book.symbol, reason=step.reason)
