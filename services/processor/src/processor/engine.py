"""Per-symbol state and the effects of each closed bar: decide, publish, store, checkpoint.

A bar at or before its symbol's checkpoint was fully handled before (its signal, if any, is
published and stored), so it only updates the strategy; a later bar is handled in this order:
stream entry, signal document (what the stream carries), checkpoint. The batch's klines are
written once the first signal is out (a write running beside the publish delays it on the shared
event loop and MongoDB host) and are durable before any checkpoint moves. Stream entries are acked
by the caller afterwards, so a crash at any step leaves the bar to be decided again.
The states are those of the symbols this replica owns; their set changes as leases come and go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from algo_common.domain.models import Kline
from algo_common.errors import BadMessage
from algo_common.lease import Fence
from algo_common.logging import get_logger
from algo_common.streams import StreamEntry
from processor.events import KINDS, decode_entry, stream_symbol
from processor.intervals import interval_ms
from processor.metrics import ProcessorMetrics
from processor.pipeline import BarOutcome, SymbolPipeline
from processor.publisher import SignalPublisher
from processor.signals import to_signal
from processor.store import SOURCE_INTERVAL, ProcessorStore

log = get_logger(__name__)

_SOURCE_MS = interval_ms(SOURCE_INTERVAL)


class KlineWrite:
    """A batch's klines write, started when first needed: after the batch's first publish, or when
    a bar's checkpoint must wait for it, or at the end of the batch."""

    def __init__(self, write: Callable[[], Awaitable[int]]) -> None:
        self._write = write
        self._task: asyncio.Future[int] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._write())

    async def done(self) -> None:
        """Start the write if need be and wait until it is durable."""
        self.start()
        assert self._task is not None
        await self._task

    async def settle(self) -> None:
        """Wait for a started write without raising (the batch failed; it is redone anyway)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


@dataclass
class SymbolState:
    """One symbol's pipeline, the close time of the last bar fully handled, and the lease fence
    every signal of the symbol is published under (None: unfenced)."""

    key: str
    pipeline: SymbolPipeline
    checkpoint: int | None = None
    fence: Fence | None = None

    def is_done(self, bar: Kline) -> bool:
        return self.checkpoint is not None and bar.close_time <= self.checkpoint


class Engine:
    """Turns market stream entries into signals for every configured symbol."""

    def __init__(
        self,
        states: Sequence[SymbolState],
        store: ProcessorStore,
        publisher: SignalPublisher,
        metrics: ProcessorMetrics,
        order_quantity: Decimal,
        clock: Callable[[], int],
    ) -> None:
        self.states: dict[str, SymbolState] = {state.pipeline.symbol: state for state in states}
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._quantity = order_quantity
        self._clock = clock

    async def on_outcome(
        self,
        state: SymbolState,
        outcome: BarOutcome,
        inputs: KlineWrite | None = None,
        replayed: bool = True,
    ) -> None:
        """Handle one closed bar (live or catch-up); a no-op for bars already handled.

        ``inputs``: the write of the bar's klines, started once the signal is out and awaited
        before the checkpoint moves.
        ``replayed``: the bar may have been decided before (catch-up, the default, or redelivered
        entries); only a first delivery skips looking for a stored signal before publishing.
        """
        bar = outcome.bar
        if state.is_done(bar):
            return
        self._metrics.bars.add(1, {"symbol": bar.symbol, "interval": bar.interval})
        if outcome.decision is not None:
            sig = to_signal(state.pipeline.strategy, outcome.decision, bar, self._quantity, self._clock())
            published = await self._publisher.publish(sig, bar, state.fence, replayed=replayed)
            if inputs is not None:
                inputs.start()  # MongoDB work only once the signal is on its way to the trader
            await self._publisher.store(published)
        if inputs is not None:
            await inputs.done()
        await self._store.save_checkpoint(state.key, bar.close_time, self._clock(), outcome.state)
        state.checkpoint = bar.close_time

    def add(self, state: SymbolState) -> None:
        self.states[state.pipeline.symbol] = state

    def remove(self, symbol: str) -> None:
        self.states.pop(symbol, None)

    async def process(self, entries: Sequence[StreamEntry]) -> None:
        """Handle a batch in stream order; the caller acks it once this returns."""
        fresh = self._fresh([kline for kline in map(self._decode, entries) if kline is not None])
        if not fresh:
            return
        replayed = any(entry.redelivered for entry in entries)
        # The klines need not be durable before a signal is published, only before any checkpoint
        # moves and before the caller acks: a rebuild finds them in MongoDB.
        stored = KlineWrite(lambda: self._store.store_klines(fresh))
        try:
            for kline in fresh:
                state = self.states.get(kline.symbol)
                if state is None:  # not owned any more
                    continue
                skipped = await self._skipped_before(state, kline)
                for earlier in skipped:
                    await self._feed(state, earlier, stored, True)
                await self._feed(state, kline, stored, replayed or bool(skipped))
        except BaseException:
            await stored.settle()
            raise
        await stored.done()

    async def _feed(self, state: SymbolState, kline: Kline, stored: KlineWrite, replayed: bool) -> None:
        for outcome in state.pipeline.on_kline(kline):
            await self.on_outcome(state, outcome, stored, replayed)

    async def _skipped_before(self, state: SymbolState, kline: Kline) -> list[Kline]:
        """Minutes the stream skipped before ``kline`` that MongoDB holds, oldest first.

        The stream can miss a kline MongoDB has: an entry read (and left unacked) by a replica that
        had just lost the lease, or trimmed by ``MAXLEN``. Feeding it from MongoDB keeps every bar
        complete, as the warm-up would build it; a minute nobody recorded stays missing.
        """
        last = state.pipeline.bars.last_open_time
        if last is None or kline.open_time <= last + _SOURCE_MS:
            return []
        skipped = [
            k async for k in self._store.klines_between(kline.symbol, last + _SOURCE_MS, kline.open_time - _SOURCE_MS)
        ]
        if skipped:
            self._metrics.gap_klines.add(len(skipped), {"symbol": kline.symbol})
            log.warning("klines missing from the stream read from MongoDB", symbol=kline.symbol, count=len(skipped))
        return skipped

    def _fresh(self, klines: Sequence[Kline]) -> list[Kline]:
        """Closed 1m klines later than anything seen (before or earlier in the batch); replays are counted."""
        fresh: list[Kline] = []
        latest: dict[str, int] = {}
        for kline in klines:
            if not kline.closed or kline.interval != SOURCE_INTERVAL:
                continue
            seen = latest.get(kline.symbol)
            if self.states[kline.symbol].pipeline.accepts(kline) and (seen is None or kline.open_time > seen):
                fresh.append(kline)
                latest[kline.symbol] = kline.open_time
            else:
                self._metrics.events_dropped.add(1, {"reason": "duplicate"})
        return fresh

    def _decode(self, entry: StreamEntry) -> Kline | None:
        """The entry's kline if it is one of ours; counts and logs everything else."""
        try:
            event = decode_entry(entry)
        except BadMessage as e:
            self._metrics.events_dropped.add(1, {"reason": e.reason})
            raw = e.raw if isinstance(e.raw, str) else e.raw.decode(errors="replace")
            log.warning(
                "dropped stream entry",
                reason=e.reason,
                stream=entry.stream,
                entry_id=entry.entry_id.decode(),
                raw=raw[:2000],
            )
            return None
        self._metrics.events_consumed.add(1, {"symbol": stream_symbol(entry.stream), "kind": KINDS[type(event)]})
        return event if isinstance(event, Kline) and event.symbol in self.states else None
