"""Publish first, store second: a crash or a failed insert between the two leaves one signal, the same everywhere.

The signal reaches ``trade_signals_stream`` before its ``trade_signals`` document is written (the
document is off the latency path). When the insert never happens, the bar is decided again with
a later decision time; the stream entry is not written twice and the document stored is the one
the stream carries, field for field.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect

from algo_common.clock import now_ms
from algo_common.domain.models import Signal
from algo_common.mongo import Document, to_document
from algo_common.streams import SIGNALS_STREAM, encode_signal
from processor.store import ProcessorStore
from tests.integration.processor.processor_harness import (
    BUY_AT_5,
    WAIT_S,
    Collector,
    Observer,
    RunProcessor,
    assert_signals,
    klines,
)
from tests.support import eventually

LATER_MS = 3_600_000  # how much later than the first decision the bar is decided again


class Crash(Exception):
    """Stands for the process dying: the service does not handle it, its main task ends."""


def _clock_with(offset: list[int]) -> Callable[[], int]:
    return lambda: now_ms() + offset[0]


async def _published_only(observer: Observer) -> Signal:
    """The one signal on the stream, once it is there (its document not written)."""

    async def one() -> bool:
        return len(await observer.stream_signals()) == 1

    await eventually(one, "signal on the stream", timeout_s=WAIT_S)
    [sig] = await observer.stream_signals()
    return sig


async def _assert_stream_equals_documents(
    observer: Observer, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document], first: Signal
) -> None:
    """One entry, one document, the same signal: the first decision (its decision time), byte for byte."""
    entries: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(SIGNALS_STREAM)  # type: ignore[assignment]
    docs = await observer.signal_docs()
    assert len(entries) == 1
    assert len(docs) == 1
    stored = await ProcessorStore(mongo_db).find_signal(first.signal_id)
    assert stored == first
    assert docs[0] == to_document(first, doc_id=first.signal_id)
    assert entries[0][1][b"signal"] == encode_signal(stored)
    assert_signals(docs, await observer.stream_signals(), [BUY_AT_5])


async def test_a_crash_between_publish_and_insert_stores_the_published_signal_after_restart(
    run_processor: RunProcessor,
    collector: Collector,
    observer: Observer,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # arrange: the signal document's insert never happens (the process dies right after the publish)
    async def die(self: ProcessorStore, sig: Signal) -> bool:
        raise Crash(sig.signal_id)

    offset = [0]
    published: list[Signal] = []

    async def run_until_the_crash() -> None:
        async with run_processor(clock=_clock_with(offset)):
            await collector.emit(klines(range(6)))
            published.append(await _published_only(observer))

    with monkeypatch.context() as patch:
        patch.setattr(ProcessorStore, "insert_signal", die)
        with pytest.raises(Crash):
            await run_until_the_crash()
    [first] = published
    checkpoint = await observer.checkpoint()
    assert checkpoint is None or checkpoint < first.bar_close_time
    assert await observer.signal_docs() == []
    # act: restart, an hour later by its clock: bar 5 is decided again with a later decision time
    offset[0] = LATER_MS
    async with run_processor(clock=_clock_with(offset)):
        await observer.wait_checkpoint(5)
        await observer.wait_drained()
        # assert
        await _assert_stream_equals_documents(observer, redis, mongo_db, first)


async def test_a_failed_insert_after_the_publish_is_redone_with_the_published_signal(
    run_processor: RunProcessor,
    collector: Collector,
    observer: Observer,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # arrange: the first insert of a signal document fails (MongoDB blip), and the clock moves on an hour
    real_insert = ProcessorStore.insert_signal
    offset = [0]

    async def fail_once(self: ProcessorStore, sig: Signal) -> bool:
        if offset[0] == 0:
            offset[0] = LATER_MS
            raise AutoReconnect("injected: connection lost after the publish")
        return await real_insert(self, sig)

    monkeypatch.setattr(ProcessorStore, "insert_signal", fail_once)
    async with run_processor(clock=_clock_with(offset)):
        # act: the processor rebuilds its state and decides bar 5 again
        await collector.emit(klines(range(6)))
        await observer.wait_checkpoint(5)
        await observer.wait_drained()
        # assert
        assert offset[0] == LATER_MS
        [first] = await observer.stream_signals()
        assert first.ts_decision < now_ms()  # decided before the failure, not after it
        await _assert_stream_equals_documents(observer, redis, mongo_db, first)
