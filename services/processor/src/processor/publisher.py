"""Make a signal visible, then durable: the stream first, then MongoDB, each exactly once.

The fenced ``publish_or_find`` writes the entry (deterministic signal id, written once), so the
trader sees the signal without waiting for MongoDB. Then the ``trade_signals`` document is
stored, built from what the stream carries: when the id was published before (a crash after the
publish, before the checkpoint moved, and the bar decided again), the script hands back the
payload published first, with its original decision time, and that is what is stored. So the
stream entry and the document are the same signal whichever step a crash interrupted; the caller
moves the checkpoint and acks only after :meth:`SignalPublisher.store` returned.

With a ``fence`` (the symbol's lease), the stream write is refused atomically once the lease is
no longer this replica's: :class:`SignalFenced` names the symbol and the fence, nothing is stored
and the caller must not move the checkpoint (the new owner decides the bar again).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import redis.asyncio as aioredis

from algo_common.domain.models import Kline, Signal
from algo_common.errors import AlgoTradeError
from algo_common.lease import Fence, LeaseLost
from algo_common.logging import get_logger
from algo_common.streams import SIGNALS_STREAM, Publication, decode_signal, publish_or_find
from processor.metrics import ProcessorMetrics
from processor.signals import stream_fields
from processor.store import ProcessorStore

log = get_logger(__name__)


class SignalFenced(AlgoTradeError):
    """A signal of ``symbol`` was refused by Redis: the lease ``fence`` belongs to is no longer held."""

    def __init__(self, symbol: str, fence: Fence) -> None:
        super().__init__(f"lease of {symbol} lost")
        self.symbol = symbol
        self.fence = fence


class SignalPublisher:
    def __init__(
        self,
        store: ProcessorStore,
        redis: aioredis.Redis,
        stream_maxlen: int,
        metrics: ProcessorMetrics,
        clock: Callable[[], int],
    ) -> None:
        self._store = store
        self._redis = redis
        self._maxlen = stream_maxlen
        self._metrics = metrics
        self._clock = clock

    async def publish(self, sig: Signal, bar: Kline, fence: Fence | None = None, *, replayed: bool = False) -> Signal:
        """Put ``sig`` on the stream unless its id is there already; returns the signal the stream carries.

        ``replayed``: the bar may have been decided before (catch-up, redelivered entries). Then a
        document stored by an earlier version of the processor (which stored before publishing)
        is published in place of ``sig``; on the live path that MongoDB read is skipped.
        """
        candidate = (await self._store.find_signal(sig.signal_id) or sig) if replayed else sig
        try:
            publication = await publish_or_find(
                self._redis, SIGNALS_STREAM, sig.signal_id, stream_fields(candidate), self._maxlen, fence=fence
            )
        except LeaseLost:
            assert fence is not None  # only a fenced publish is refused
            log.warning("signal not published: lease lost", signal_id=sig.signal_id, symbol=sig.symbol)
            raise SignalFenced(sig.symbol, fence) from None
        published = candidate if publication.new else await self._published(publication, candidate)
        # Logged once it is on the stream (or known to be), so the log line costs the trader no latency.
        log.info(
            "signal",
            published=publication.new,
            signal=msgspec.to_builtins(published),
            bar=msgspec.to_builtins(bar),
        )
        if publication.new:
            self._metrics.signals.add(1, {"symbol": published.symbol, "side": published.side.value})
            latency_s = (self._clock() - published.ts_event) / 1000
            self._metrics.signal_latency.record(max(latency_s, 0.0), {"symbol": published.symbol})
        return published

    async def store(self, published: Signal) -> None:
        """Store the ``trade_signals`` document of a signal :meth:`publish` returned (insert-or-ignore)."""
        if not await self._store.insert_signal(published):
            stored = await self._store.find_signal(published.signal_id)
            if stored != published:  # only a document and a marker from before publish-first can differ
                log.error("stored signal differs from the stream's", signal_id=published.signal_id)

    async def _published(self, publication: Publication, candidate: Signal) -> Signal:
        """The signal an earlier publish put on the stream (a marker without a copy: the stored one)."""
        if publication.fields is not None:
            return decode_signal(publication.fields[b"signal"])
        return await self._store.find_signal(candidate.signal_id) or candidate
