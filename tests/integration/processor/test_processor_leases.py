"""Symbol leases on a real Redis: one holder at a time, renew and release only by the holder, fenced publishing.

The in-process processor then shows the consequence: once another holder has its symbol's lease it
publishes nothing for it and does not move its checkpoint; when the lease is free again it takes the
symbol back and publishes the signal exactly once.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from algo_common.lease import LeaseLost, RedisLease
from algo_common.streams import SIGNALS_STREAM, publish_once
from processor.ownership import LEASE_PREFIX
from processor.store import checkpoint_key
from tests.integration.processor.processor_harness import (
    BUY_AT_5,
    WAIT_S,
    Collector,
    Observer,
    RunProcessor,
    assert_signals,
    klines,
    path_kline,
)
from tests.support import eventually, metric_value

KEY = "lease:test:BTCUSDT"
FIELDS = {b"signal_id": b"s1", b"signal": b"{}"}


async def test_only_one_holder_at_a_time_and_each_acquisition_has_a_larger_fencing_number(
    redis: aioredis.Redis,
) -> None:
    # arrange
    a, b = RedisLease(redis, KEY, "a", 10_000), RedisLease(redis, KEY, "b", 10_000)
    # act
    first, second = await a.acquire(), await b.acquire()
    await a.release()
    third = await b.acquire()
    # assert
    assert (first, second, third) == (True, False, True)
    assert a.fence is None
    assert b.fence is not None
    assert b.fence.number == 2
    assert (await redis.get(KEY)) == b.fence.token.encode()


async def test_a_holder_whose_lease_was_taken_can_neither_renew_release_nor_publish(redis: aioredis.Redis) -> None:
    # arrange: a held the lease; it expired (deleted here) and b took it
    a, b = RedisLease(redis, KEY, "a", 10_000), RedisLease(redis, KEY, "b", 10_000)
    assert await a.acquire()
    stale = a.fence
    assert stale is not None
    await redis.delete(KEY)
    assert await b.acquire()
    # act / assert
    with pytest.raises(LeaseLost):
        await publish_once(redis, SIGNALS_STREAM, "s1", FIELDS, 1000, fence=stale)
    assert await redis.xlen(SIGNALS_STREAM) == 0
    assert await redis.exists("published:s1") == 0  # refused before the duplicate marker: b can still publish it
    assert not await a.renew()
    assert not await a.release()  # a is told, and b's lease is untouched
    assert b.fence is not None
    assert await publish_once(redis, SIGNALS_STREAM, "s1", FIELDS, 1000, fence=b.fence) is not None
    assert await publish_once(redis, SIGNALS_STREAM, "s1", FIELDS, 1000, fence=b.fence) is None
    assert await redis.xlen(SIGNALS_STREAM) == 1


async def test_renew_extends_the_holders_lease(redis: aioredis.Redis) -> None:
    # arrange
    lease = RedisLease(redis, KEY, "a", 1_000)
    assert await lease.acquire()
    # act
    lease.ttl_ms = 60_000
    renewed = await lease.renew()
    # assert
    assert renewed
    assert await redis.pttl(KEY) > 1_000


async def test_a_processor_that_lost_its_lease_stops_emitting_and_resumes_once_it_is_free(
    run_processor: RunProcessor, collector: Collector, observer: Observer, redis: aioredis.Redis
) -> None:
    key = LEASE_PREFIX + checkpoint_key("sma_cross", "BTCUSDT", "1m")
    fenced_before = metric_value("processor_lease_losses_total", symbol="BTCUSDT")
    async with run_processor(lease_ttl_ms=1_000, lease_renew_ms=200) as service:
        await collector.emit(klines(range(5)))
        await observer.wait_checkpoint(4)
        # act: another replica holds the lease now (this one's expired while it was paused, say)
        await redis.set(key, "999:other:x", px=60_000)
        await collector.emit(klines([5]))

        async def stopped() -> bool:
            return "BTCUSDT" not in service.ownership.owned

        await eventually(stopped, "lease loss noticed", timeout_s=WAIT_S)
        # assert: nothing published for the crossing bar, checkpoint not moved past it
        assert await observer.stream_signals() == []
        assert await observer.signal_docs() == []  # nothing stored either: the document follows the publish
        assert await observer.checkpoint() == path_kline(4).close_time
        assert metric_value("processor_lease_losses_total", symbol="BTCUSDT") > fenced_before
        # act: the other holder goes away; the lease is free, the processor takes the symbol back
        await redis.delete(key)
        await observer.wait_checkpoint(5)
        await observer.wait_drained()
        assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5])
