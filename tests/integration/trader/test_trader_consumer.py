"""Consumer group behaviour: a dead consumer's entry is taken over only after TRADER_CLAIM_IDLE_MS."""

from __future__ import annotations

import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Side
from algo_common.mongo import Document
from algo_common.streams import SIGNALS_STREAM, TRADER_GROUP, ensure_group
from tests.integration.trader.trader_harness import BUY, make_signal, pending_count, publish_signal, running_trader
from tests.support import eventually
from trader.settings import TraderSettings

LATER = make_signal(Side.BUY, "100", "0.001", bar_close_time=600_000)


async def _status(db: AsyncDatabase[Document], signal_id: str) -> str | None:
    order = await db.orders.find_one({"_id": signal_id})
    return None if order is None else str(order["status"])


async def test_entry_of_a_dead_consumer_is_claimed_only_after_the_idle_time(
    trader_settings: TraderSettings, redis: aioredis.Redis, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: consumer "dead" read BUY and never acknowledged it
    await ensure_group(redis, SIGNALS_STREAM, TRADER_GROUP)
    await publish_signal(redis, BUY)
    await redis.xreadgroup(TRADER_GROUP, "dead", {SIGNALS_STREAM: ">"}, count=1)
    patient = trader_settings.model_copy(update={"claim_idle_ms": 3_600_000})
    # act 1: a trader that waits an hour before claiming handles new work, not the dead one's
    async with running_trader(patient):
        await publish_signal(redis, LATER)

        async def later_done() -> bool:
            return await _status(mongo_db, LATER.signal_id) == "FILLED"

        await eventually(later_done, "the new signal")
    # assert 1
    assert await _status(mongo_db, BUY.signal_id) is None
    assert await pending_count(redis) == 1
    # act 2: with a short idle time it is claimed and executed
    async with running_trader(trader_settings.model_copy(update={"claim_idle_ms": 50})):

        async def claimed() -> bool:
            return await _status(mongo_db, BUY.signal_id) == "FILLED" and await pending_count(redis) == 0

        await eventually(claimed, "the dead consumer's signal claimed and executed")
    # assert 2
    consumers = {
        bytes(c["name"]).decode(): c["pending"] for c in await redis.xinfo_consumers(SIGNALS_STREAM, TRADER_GROUP)
    }
    assert consumers["dead"] == 0
