"""Make a signal durable, then visible: MongoDB first, then the stream, each exactly once.

Order matters for crash safety: the document is inserted (insert-or-ignore by signal id) before
the stream entry is written with ``publish_once``. A crash in between leaves a stored, unpublished
signal; the bar is decided again after restart (its checkpoint was not written), the insert is a
no-op and the *stored* signal is published, so the stream carries exactly what MongoDB holds.

With a ``fence`` (the symbol's lease), the stream write is refused atomically once the lease is
no longer this replica's: :class:`SignalFenced` names the symbol and the fence, and the caller must
not move the checkpoint (the new owner decides the bar again and publishes the stored signal).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import redis.asyncio as aioredis

from algo_common.domain.models import Kline, Signal
from algo_common.errors import AlgoTradeError
from algo_common.lease import Fence, LeaseLost
from algo_common.logging import get_logger
from algo_common.streams import SIGNALS_STREAM, publish_once
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

    async def emit(self, sig: Signal, bar: Kline, fence: Fence | None = None) -> bool:
        """Store and publish ``sig``; True when this call put it on the stream (False: it already was)."""
        inserted = await self._store.insert_signal(sig)
        stored = sig if inserted else (await self._store.find_signal(sig.signal_id) or sig)
        try:
            entry_id = await publish_once(
                self._redis, SIGNALS_STREAM, stored.signal_id, stream_fields(stored), self._maxlen, fence=fence
            )
        except LeaseLost:
            assert fence is not None  # only a fenced publish is refused
            log.warning("signal not published: lease lost", signal_id=stored.signal_id, symbol=stored.symbol)
            raise SignalFenced(stored.symbol, fence) from None
        # Logged once it is on the stream (or known to be), so the log line costs the trader no latency.
        log.info(
            "signal",
            inserted=inserted,
            published=entry_id is not None,
            signal=msgspec.to_builtins(stored),
            bar=msgspec.to_builtins(bar),
        )
        if entry_id is None:
            return False
        self._metrics.signals.add(1, {"symbol": stored.symbol, "side": stored.side.value})
        latency_s = (self._clock() - stored.ts_event) / 1000
        self._metrics.signal_latency.record(max(latency_s, 0.0), {"symbol": stored.symbol})
        return True
