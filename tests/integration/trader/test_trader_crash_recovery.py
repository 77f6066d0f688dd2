"""Crash safety: a trader process killed at each step, then restarted, makes one order per signal.

The failpoint (TRADER_FAILPOINT) makes the process exit with status 137 at that step, as a
SIGKILL would: after the entry is read, after the intent is stored, after the venue holds the
order (before its reply returns), after the reply (nothing recorded), after the outcome
transaction, and before the XACK. The restarted trader either has the same consumer name (it re-reads its own
unacknowledged entries) or another one that claims the dead consumer's entries (XAUTOCLAIM).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from algo_trade.servers import free_port
from tests.integration.trader.crash_checks import PaperView, assert_consistent
from tests.integration.trader.trader_harness import (
    BUY,
    FINAL,
    SELL,
    group_drained,
    pending_count,
    process_env,
    publish_signal,
    start_trader_process,
    stop_process,
)
from tests.support import WAIT_S, eventually

RESTARTS = {
    "same-consumer": {"TRADER_CONSUMER_NAME": "trader-a"},
    "other-consumer": {"TRADER_CONSUMER_NAME": "trader-b", "TRADER_CLAIM_IDLE_MS": "200"},
}


@pytest.mark.parametrize("restart", sorted(RESTARTS))
@pytest.mark.parametrize(
    "failpoint", ["after_read", "after_intent", "after_send", "after_ack", "after_outcome", "before_ack"]
)
async def test_killed_trader_restarts_into_one_order_per_signal(
    failpoint: str,
    restart: str,
    redis: aioredis.Redis,
    redis_url: str,
    mongo_uri: str,
    db_name: str,
    mongo_db: AsyncDatabase[Document],
    tmp_path: Path,
) -> None:
    # arrange
    await publish_signal(redis, BUY)
    await publish_signal(redis, SELL)
    log = tmp_path / "trader.log"
    crashing = process_env(
        redis_url, mongo_uri, db_name, free_port(), TRADER_CONSUMER_NAME="trader-a", TRADER_FAILPOINT=failpoint
    )
    dying = start_trader_process(crashing, log)
    status = await asyncio.to_thread(dying.wait, WAIT_S)
    assert status == 137, log.read_text()
    assert await pending_count(redis) >= 1
    # act
    restarted = start_trader_process(process_env(redis_url, mongo_uri, db_name, free_port(), **RESTARTS[restart]), log)
    try:

        async def done() -> bool:
            final = await mongo_db.orders.count_documents({"status": {"$in": FINAL}})
            return final == 2 and await group_drained(redis)

        await eventually(done, "both signals executed and acked")
    finally:
        exit_status = await stop_process(restarted)
    # assert
    assert exit_status == 0, log.read_text()
    assert await mongo_db.orders.count_documents({"status": "FILLED"}) == 2
    for signal in (BUY, SELL):
        assert await mongo_db.fills.count_documents({"client_order_id": signal.signal_id}) == 1
    assert await pending_count(redis) == 0
    view = PaperView(redis)
    await assert_consistent(view, mongo_db, redis, {BUY.signal_id, SELL.signal_id})
    assert len(await view.orders()) == 2
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert (position["qty"], position["realized_pnl"], position["fees"]) == (0, Decimal("5.0025"), Decimal("1.3050045"))
    assert await view.base_balance("BTCUSDT") == 0
