"""Harness for the processor integration tests: the price path, a stand-in collector, an observer, waits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.clock import now_ms
from algo_common.domain.ids import signal_id
from algo_common.domain.models import Kline, Signal
from algo_common.health import create_health_app
from algo_common.mongo import Document, insert_or_ignore, to_document
from algo_common.streams import (
    EVENT_FIELD,
    PROCESSOR_GROUP,
    SIGNALS_STREAM,
    decode_signal,
    encode_market_event,
    market_stream,
    publish_batch,
)
from processor.lag import stream_backlog
from processor.service import ProcessorService
from processor.settings import ProcessorSettings
from processor.store import checkpoint_key
from tests.support import eventually

MINUTE = 60_000
T0 = 1_700_000_040_000  # a minute boundary (2023-11-14 22:14 UTC)
CONSUMER = "processor-test"
WAIT_S = 45.0  # what the processor tests give eventually(), rather than tests.support.WAIT_S

# One cross up at bar 5 (SMA2 102 > SMA4 101) and one cross down at bar 8 (SMA2 100 < SMA4 102),
# then a second cross up at bar 10 (SMA2 103 > SMA4 101.5).
PATH = ["100", "100", "100", "100", "100", "104", "104", "104", "96", "96", "110"]


def path_kline(i: int, *, closed: bool = True, symbol: str = "BTCUSDT") -> Kline:
    """Bar ``i`` of :data:`PATH` as the collector publishes it (1m, Binance-aligned)."""
    return minute_kline(T0 + i * MINUTE, PATH[i], closed=closed, symbol=symbol)


def minute_kline(open_time: int, close: str, *, closed: bool = True, symbol: str = "BTCUSDT") -> Kline:
    """A 1m kline opening and closing at ``close``, its event time 3 ms after its close."""
    price = Decimal(close)
    return Kline(
        symbol=symbol,
        interval="1m",
        open_time=open_time,
        close_time=open_time + MINUTE - 1,
        open=price,
        high=price + 1,
        low=price - 1,
        close=price,
        volume=Decimal("1.5"),
        quote_volume=price * Decimal("1.5"),
        trades=3,
        closed=closed,
        ts_event=open_time + MINUTE + 3,
        ts_recv=open_time + MINUTE + 8,
    )


def klines(indexes: range | Sequence[int], symbol: str = "BTCUSDT") -> list[Kline]:
    return [path_kline(i, symbol=symbol) for i in indexes]


@dataclass
class Collector:
    """Writes what the collector would: closed klines to MongoDB, every event to market.{SYMBOL}."""

    redis: aioredis.Redis
    db: AsyncDatabase[Document]

    async def publish(self, events: Sequence[Kline]) -> None:
        entries = [(market_stream(e.symbol), {EVENT_FIELD: encode_market_event(e)}) for e in events]
        await publish_batch(self.redis, entries, 10_000)

    async def publish_raw(self, fields: dict[bytes, bytes], stream: str = market_stream("BTCUSDT")) -> None:
        await publish_batch(self.redis, [(stream, fields)], 10_000)

    async def store(self, events: Sequence[Kline]) -> None:
        await insert_or_ignore(self.db.klines, [to_document(k, doc_id=k.event_id) for k in events if k.closed])

    async def emit(self, events: Sequence[Kline]) -> None:
        await self.store(events)
        await self.publish(events)


@dataclass
class Observer:
    """Reads the processor's outputs: signal documents, signal stream, checkpoint, readiness, metrics."""

    redis: aioredis.Redis
    db: AsyncDatabase[Document]

    async def signal_docs(self) -> list[Document]:
        return await self.db.trade_signals.find({}).sort("bar_close_time", 1).to_list()

    async def stream_signals(self) -> list[Signal]:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = await self.redis.xrange(SIGNALS_STREAM)  # type: ignore[assignment]
        return [decode_signal(fields[b"signal"]) for _, fields in entries]

    async def checkpoint(self, symbol: str = "BTCUSDT", interval: str = "1m") -> int | None:
        doc = await self.db.processor_state.find_one({"_id": checkpoint_key("sma_cross", symbol, interval)})
        return None if doc is None else int(doc["last_bar_close_time"])

    async def wait_checkpoint(self, bar_index: int, symbol: str = "BTCUSDT") -> None:
        target = path_kline(bar_index).close_time

        async def reached() -> bool:
            return await self.checkpoint(symbol) == target

        await eventually(reached, f"checkpoint at bar {bar_index}", timeout_s=WAIT_S)

    async def wait_drained(self, symbol: str = "BTCUSDT") -> None:
        """Every entry of the market stream read and acked by the processor group."""

        async def drained() -> bool:
            return await stream_backlog(self.redis, market_stream(symbol), PROCESSOR_GROUP) == 0

        await eventually(drained, "market stream drained", timeout_s=WAIT_S)

    async def wait_signals(self, count: int) -> None:
        async def enough() -> bool:
            return len(await self.stream_signals()) >= count and len(await self.signal_docs()) >= count

        await eventually(enough, f"{count} signals", timeout_s=WAIT_S)


async def is_ready(service: ProcessorService) -> bool:
    ready, _ = await service.health.readiness()
    return ready


async def readiness(service: ProcessorService) -> int:
    transport = httpx.ASGITransport(app=create_health_app("processor", service.health))
    async with httpx.AsyncClient(transport=transport, base_url="http://processor") as client:
        return (await client.get("/healthcheck")).status_code


def settings_for(redis_url: str, mongo_uri: str, db_name: str, **overrides: Any) -> ProcessorSettings:
    """An in-process processor on SMA(2)/SMA(4) over 1m bars, fast polling and fast retries, no REST backfill."""
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "mongo_uri": mongo_uri,
        "mongo_db": db_name,
        "symbols": ("BTCUSDT",),
        "fast_period": 2,
        "slow_period": 4,
        "interval": "1m",
        "order_quantity": Decimal("0.001"),
        "http_port": 0,
        "consumer_name": CONSUMER,
        "block_ms": 50,
        "retry_base_s": 0.05,
        "retry_cap_s": 0.5,
        "backfill": False,  # no venue here: the tests' history is what they store
    }
    values.update(overrides)
    return ProcessorSettings(**values)


RunProcessor = Callable[..., contextlib.AbstractAsyncContextManager[ProcessorService]]


def processor_runner(redis_url: str, mongo_uri: str, db_name: str) -> RunProcessor:
    """``async with run(**overrides) as service:`` runs main(stop) as a task, then stops and closes it."""

    @contextlib.asynccontextmanager
    async def run(
        wait_ready: bool = True, clock: Callable[[], int] = now_ms, **overrides: Any
    ) -> AsyncIterator[ProcessorService]:
        service = ProcessorService.from_settings(settings_for(redis_url, mongo_uri, db_name, **overrides), clock)
        stop = asyncio.Event()
        task = asyncio.create_task(service.main(stop))
        try:
            if wait_ready:
                # Writers wait for the warm-up: SecantusDB (the test MongoDB) can wedge when one client
                # creates a collection implicitly while another creates it (or its indexes) explicitly.
                await eventually(lambda: is_ready(service), "processor ready", timeout_s=WAIT_S)
            yield service
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, 30)
            finally:
                await service.aclose()

    return run


@dataclass(frozen=True)
class Expected:
    """A signal the path must produce at bar ``index``."""

    index: int
    side: str
    price: str
    fast: str
    slow: str


BUY_AT_5 = Expected(5, "BUY", "104", "102", "101")
SELL_AT_8 = Expected(8, "SELL", "96", "100", "102")
BUY_AT_10 = Expected(10, "BUY", "110", "103", "101.5")


def assert_signals(docs: Sequence[Document], published: Sequence[Signal], expected: Sequence[Expected]) -> None:
    """Exactly ``expected``, once each in MongoDB and once each on the stream, with identical content."""
    assert [d["side"] for d in docs] == [e.side for e in expected]
    assert len(published) == len(expected)
    by_id = {s.signal_id: s for s in published}
    assert len(by_id) == len(published), "a signal is on the stream twice"
    for doc, exp in zip(docs, expected, strict=True):
        bar = path_kline(exp.index)
        assert doc["_id"] == signal_id("sma_cross", {"fast": "2", "slow": "4"}, "BTCUSDT", bar.interval, bar.close_time)
        assert (doc["price"], doc["quantity"]) == (Decimal(exp.price), Decimal("0.001"))
        assert doc["indicators"] == {"fast": Decimal(exp.fast), "slow": Decimal(exp.slow)}
        assert (doc["bar_open_time"], doc["bar_close_time"], doc["ts_event"]) == (
            bar.open_time,
            bar.close_time,
            bar.ts_event,
        )
        assert by_id[doc["_id"]] == msgspec.convert(doc, Signal)
