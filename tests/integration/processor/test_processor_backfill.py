"""Warm-up backfill: a history shorter than the warm-up is completed from REST (the simulator here).

The klines fetched are stored under the collector's ids (insert-or-ignore), the newest ones the
collector already stored are left alone, pages go back in time until enough are stored, a 429
with a short Retry-After is waited out and a long one (or a dead venue) leaves the warm-up with
the history there is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Kline
from algo_common.errors import RateLimited, TransientError
from algo_common.mongo import Document
from exchange_sim.runner import RunningSimulator, start_simulator
from exchange_sim.settings import SimSettings
from processor.backfill import Backfill
from processor.kline_history import KlineHistory
from processor.metrics import ProcessorMetrics
from processor.store import ProcessorStore, checkpoint_key
from tests.integration.processor.processor_harness import (
    MINUTE,
    T0,
    WAIT_S,
    Collector,
    RunProcessor,
    minute_kline,
)
from tests.support import eventually

SLOW = 30  # SMA(2)/SMA(30) on 1m bars: a warm-up of 31 klines
BARS = 45


@pytest.fixture
async def sim() -> AsyncIterator[RunningSimulator]:
    """A simulator with BARS closed 1m bars (stepped by hand: rate 0, two steps per bar)."""
    running = await start_simulator(SimSettings(port=0, rate=0, steps_per_bar=2, seed=3, start_time_ms=T0))
    async with httpx.AsyncClient() as http:
        (await http.post(f"{running.control_url}/step", json={"n": 2 * BARS})).raise_for_status()
    yield running
    await running.close()


async def venue_klines(sim: RunningSimulator) -> list[Kline]:
    async with httpx.AsyncClient() as http:
        return await KlineHistory(http, sim.rest_url).closed_before("BTCUSDT", None, 1000)


async def test_a_fresh_processor_completes_a_short_history_from_rest_under_the_collectors_ids(
    run_processor: RunProcessor, sim: RunningSimulator, collector: Collector, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: the collector stored only the newest 10 closed klines
    closed = await venue_klines(sim)
    assert len(closed) == BARS - 1  # the newest row is taken for the forming bar: the live stream brings it
    await collector.store(closed[-10:])
    # act
    async with run_processor(backfill=True, rest_base_url=sim.rest_url, slow_period=SLOW):
        docs = await mongo_db.klines.find({}).sort("open_time", 1).to_list()
        state = await mongo_db.processor_state.find_one({"_id": checkpoint_key("sma_cross", "BTCUSDT", "1m")})
    # assert: 31 klines, contiguous, the venue's content under the collector's ids; warmed up to the newest
    assert [d["_id"] for d in docs] == [k.event_id for k in closed[-(SLOW + 1) :]]
    assert [(d["open_time"], d["close"], d["volume"]) for d in docs] == [
        (k.open_time, k.close, k.volume) for k in closed[-(SLOW + 1) :]
    ]
    assert all(d["closed"] for d in docs)
    assert state is not None
    assert state["last_bar_close_time"] == closed[-1].close_time


class FakeVenue:
    """Binance's klines endpoint as a scripted fake: ``history`` klines, errors raised first."""

    def __init__(self, history: list[Kline], errors: list[Exception] | None = None) -> None:
        self.history = history
        self.errors = errors or []
        self.calls: list[tuple[int | None, int]] = []

    async def closed_before(self, symbol: str, end_open_time: int | None, limit: int = 1000) -> list[Kline]:
        self.calls.append((end_open_time, limit))
        if self.errors:
            raise self.errors.pop(0)
        rows = [k for k in self.history if end_open_time is None or k.open_time <= end_open_time]
        return rows[-limit:]


def history(n: int) -> list[Kline]:
    return [minute_kline(T0 + i * MINUTE, str(Decimal(100) + i % 7)) for i in range(n)]


async def test_pages_go_back_from_the_oldest_stored_kline_until_enough_are_stored(
    mongo_db: AsyncDatabase[Document], collector: Collector
) -> None:
    # arrange: 3000 klines at the venue, the newest 200 stored; 2500 needed
    klines = history(3000)
    await collector.store(klines[-200:])
    venue = FakeVenue(klines)
    store = ProcessorStore(mongo_db)
    # act
    stored = await Backfill(venue, store, ProcessorMetrics.create()).fill("BTCUSDT", 2500, klines[-1].open_time)
    # assert
    assert stored == 2300
    assert venue.calls == [  # each page ends just before the oldest kline stored so far
        (klines[-200].open_time - 1, 1000),
        (klines[-1200].open_time - 1, 1000),
        (klines[-2200].open_time - 1, 300),
    ]
    assert await store.count_klines("BTCUSDT", None) == 2500
    assert await store.oldest_open_time("BTCUSDT") == klines[500].open_time


async def test_a_short_retry_after_is_waited_out_and_a_venue_without_older_history_ends_the_paging(
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange: nothing stored; the venue answers 429 (retry after 0 s) then 5xx, then has only 50 klines
    venue = FakeVenue(history(50), [RateLimited("HTTP 429", 0.0), TransientError("HTTP 502")])
    store = ProcessorStore(mongo_db)
    # act
    stored = await Backfill(venue, store, ProcessorMetrics.create()).fill("BTCUSDT", 200, None)
    # assert
    assert stored == 50
    assert venue.calls == [(None, 200)] * 3


async def test_a_long_ban_gives_the_backfill_up(mongo_db: AsyncDatabase[Document]) -> None:
    # arrange
    venue = FakeVenue(history(50), [RateLimited("HTTP 418", 600.0, banned=True)])
    backfill = Backfill(venue, ProcessorStore(mongo_db), ProcessorMetrics.create(), max_wait_s=60)
    # act / assert
    with pytest.raises(RateLimited):
        await backfill.fill("BTCUSDT", 200, None)
    assert venue.calls == [(None, 200)]


async def test_an_unreachable_venue_leaves_the_warm_up_with_the_stored_history(
    run_processor: RunProcessor, collector: Collector, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: a port nobody listens on
    await collector.store(history(5))
    # act
    async with run_processor(backfill=True, rest_base_url="http://127.0.0.1:9", slow_period=SLOW):

        async def checkpointed() -> bool:
            return await mongo_db.processor_state.count_documents({}) == 1

        await eventually(checkpointed, "warmed up", timeout_s=WAIT_S)
    # assert
    assert await mongo_db.klines.count_documents({}) == 5
