"""Stream helpers and MongoDB helpers against the real servers."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
import redis.asyncio as aioredis
from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Side, Signal
from algo_common.mongo import Document, ensure_indexes, insert_or_ignore, to_document
from algo_common.streams import (
    ENTRY_ID_FIELD,
    GroupConsumer,
    decode_signal,
    encode_signal,
    publish,
    publish_once,
    publish_or_find,
)


def _signal(signal_id: str = "s1") -> Signal:
    return Signal(
        signal_id=signal_id,
        strategy="sma_cross",
        strategy_version="1",
        params={"fast": "2", "slow": "4"},
        symbol="BTCUSDT",
        interval="1m",
        side=Side.BUY,
        price=Decimal("101.50000000"),
        quantity=Decimal("0.001"),
        indicators={"fast": Decimal("101.25"), "slow": Decimal("100.5")},
        bar_open_time=0,
        bar_close_time=59_999,
        ts_event=60_000,
        ts_decision=60_001,
    )


async def test_publish_once_writes_a_signal_exactly_once(redis: aioredis.Redis) -> None:
    # arrange
    fields = {b"signal": encode_signal(_signal())}
    # act
    first = await publish_once(redis, "signals", "s1", fields, maxlen=1000)
    second = await publish_once(redis, "signals", "s1", fields, maxlen=1000)
    # assert
    assert first is not None
    assert second is None
    entries: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange("signals")  # type: ignore[assignment]
    assert len(entries) == 1
    assert decode_signal(entries[0][1][b"signal"]) == _signal()


async def test_publish_or_find_hands_a_repeated_publisher_the_payload_published_first(
    redis: aioredis.Redis,
) -> None:
    # arrange: the first decision is published; the stream is then trimmed to nothing
    first = {b"signal_id": b"s1", b"signal": encode_signal(_signal())}
    again = {b"signal_id": b"s1", b"signal": encode_signal(msgspec.structs.replace(_signal(), ts_decision=99_999))}
    published = await publish_or_find(redis, "signals", "s1", first, maxlen=1000)
    await redis.xtrim("signals", maxlen=0)
    # act: the same signal decided again, later
    repeated = await publish_or_find(redis, "signals", "s1", again, maxlen=1000)
    # assert: nothing written, and the first payload (its decision time) comes back
    assert (published.new, published.fields) == (True, first)
    assert (repeated.new, repeated.entry_id, repeated.fields) == (False, published.entry_id, first)
    assert await redis.xlen("signals") == 0


async def test_publish_or_find_after_a_marker_of_the_previous_version_reports_a_duplicate_without_payload(
    redis: aioredis.Redis,
) -> None:
    # arrange: the marker an older publish_once left (a plain string)
    await redis.set("published:s1", "1")
    # act
    result = await publish_or_find(redis, "signals", "s1", {b"signal": b"{}"}, maxlen=1000)
    legacy = await publish_once(redis, "signals", "s1", {b"signal": b"{}"}, maxlen=1000)
    # assert
    assert (result.new, result.entry_id, result.fields) == (False, None, None)
    assert legacy is None
    assert await redis.xlen("signals") == 0


async def test_publish_or_find_refuses_the_reserved_field_name(redis: aioredis.Redis) -> None:
    # act / assert
    with pytest.raises(ValueError, match="reserved"):
        await publish_or_find(redis, "signals", "s1", {ENTRY_ID_FIELD: b"x"}, maxlen=1000)
    assert await redis.exists("signals", "published:s1") == 0


async def test_unacked_entry_is_redelivered_to_a_restarted_consumer(redis: aioredis.Redis) -> None:
    # arrange
    consumer = GroupConsumer(redis, ["work"], "g", "c1", block_ms=100)
    await consumer.ensure_groups()
    await publish(redis, "work", {b"n": b"1"}, maxlen=1000)
    first = await consumer.read()
    # act: the same consumer name starts again without having acked
    restarted = GroupConsumer(redis, ["work"], "g", "c1", block_ms=100)
    again = await restarted.read()
    await restarted.ack(again)
    # assert
    assert [e.entry_id for e in again] == [e.entry_id for e in first]
    assert [(e.redelivered, a.redelivered) for e, a in zip(first, again, strict=True)] == [(False, True)]
    assert await restarted.read() == []


async def test_pending_entry_of_a_dead_consumer_is_reclaimed(redis: aioredis.Redis) -> None:
    # arrange
    dead = GroupConsumer(redis, ["work"], "g", "dead", block_ms=100)
    await dead.ensure_groups()
    await publish(redis, "work", {b"n": b"1"}, maxlen=1000)
    taken = await dead.read()
    # act
    alive = GroupConsumer(redis, ["work"], "g", "alive", block_ms=100, claim_idle_ms=0)
    claimed = await alive.read()
    # assert
    assert [e.entry_id for e in claimed] == [e.entry_id for e in taken]
    assert claimed[0].fields == {b"n": b"1"}
    assert claimed[0].redelivered


async def test_decimal_round_trips_and_replays_insert_once(mongo_db: AsyncDatabase[Document]) -> None:
    # arrange
    await ensure_indexes(mongo_db, {"trade_signals": [IndexModel([("symbol", 1), ("bar_close_time", 1)])]})
    doc = to_document(_signal(), doc_id="s1")
    # act
    first = await insert_or_ignore(mongo_db.trade_signals, [doc, to_document(_signal("s2"), doc_id="s2")])
    replay = await insert_or_ignore(mongo_db.trade_signals, [doc])
    stored = await mongo_db.trade_signals.find_one({"_id": "s1"})
    # assert
    assert (first, replay) == (2, 0)
    assert stored is not None
    assert stored["price"] == Decimal("101.50000000")
    assert isinstance(stored["indicators"]["fast"], Decimal)
