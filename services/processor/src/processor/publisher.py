"""Make a signal durable, then visible: MongoDB first, then the stream, each exactly once.

Order matters for crash safety: the document is inserted (insert-or-ignore by signal id) before
the stream entry is written with ``publish_once``. A crash in between leaves a stored, unpublished
signal; the bar is decided again after restart (its checkpoint was not written), the insert is a
no-op and the *stored* signal is published, so the stream carries exactly what MongoDB holds.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import redis.asyncio as aioredis

from algo_common.domain.models import Kline, Signal
from algo_common.logging import get_logger
from algo_common.streams import SIGNALS_STREAM, publish_once
from processor.metrics import ProcessorMetrics
from processor.signals import stream_fields
from processor.store import ProcessorStore

log = get_logger(__name__)


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

    async def emit(self, sig: Signal, bar: Kline) -> bool:
        """Store and publish ``sig``; True when this call put it on the stream (False: it already was)."""
        inserted = await self._store.insert_signal(sig)
        stored = sig if inserted else (await self._store.find_signal(sig.signal_id) or sig)
        log.info(
            "signal",
            inserted=inserted,
            signal=msgspec.to_builtins(stored),
            bar=msgspec.to_builtins(bar),
        )
        entry_id = await publish_once(
            self._redis, SIGNALS_STREAM, stored.signal_id, stream_fields(stored), self._maxlen
        )
        if entry_id is None:
            log.info("signal already published", signal_id=stored.signal_id)
            return False
        self._metrics.signals.add(1, {"symbol": stored.symbol, "side": stored.side.value})
        latency_s = (self._clock() - stored.ts_event) / 1000
        self._metrics.signal_latency.record(max(latency_s, 0.0), {"symbol": stored.symbol})
        return True
