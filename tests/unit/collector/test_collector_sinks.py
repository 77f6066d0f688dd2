"""The queue + batch writer every sink is built on: same batch retried until written, bounded queue;
and the MongoDB sink's fast Decimal128 conversion, equal to PyMongo's bit for bit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from bson.decimal128 import Decimal128
from hypothesis import given, settings
from hypothesis import strategies as st

from algo_common.domain.models import Trade
from algo_common.health import Health
from collector.metrics import collector_metrics
from collector.mongo_sink import to_decimal128
from collector.sinks import QueuedSink, SinkEvent, SinkOptions


def _trade(trade_id: int) -> Trade:
    return Trade(
        symbol="BTCUSDT",
        trade_id=trade_id,
        price=Decimal("65000.01"),
        qty=Decimal("0.001"),
        buyer_is_maker=False,
        ts_trade=trade_id,
        ts_event=trade_id,
        ts_recv=trade_id,
    )


class FlakySink(QueuedSink[Trade]):
    """Writes into a list; the first ``failures`` attempts fail like a dependency that is down."""

    name = "flaky"
    dependency = "flaky"
    retry_errors = (ConnectionError,)

    def __init__(self, health: Health, options: SinkOptions, failures: int = 0) -> None:
        super().__init__(health, collector_metrics(), options)
        self.failures = failures
        self.attempts: list[tuple[list[int], bool]] = []
        self.written: list[int] = []
        self.states_seen: list[bool] = []
        self.wrote = asyncio.Event()

    def select(self, event: SinkEvent) -> Trade | None:
        return event if isinstance(event, Trade) else None

    async def write(self, batch: list[Trade], retry: bool) -> None:
        self.attempts.append(([t.trade_id for t in batch], retry))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("dependency down")
        _, report = await self._health.readiness()
        self.states_seen.append(bool(report["flaky_writer"]["ok"]))
        self.written.extend(t.trade_id for t in batch)
        self.wrote.set()


def _options(maxsize: int = 100, batch_size: int = 10) -> SinkOptions:
    return SinkOptions(maxsize=maxsize, batch_size=batch_size, flush_interval_s=0, retry_base_s=0.001, retry_cap_s=0.01)


async def test_a_failed_batch_is_retried_whole_until_written_once_in_order() -> None:
    # arrange
    health = Health()
    sink = FlakySink(health, _options(batch_size=10), failures=2)
    for trade_id in range(1, 6):
        sink.offer(_trade(trade_id))
    finish = asyncio.Event()
    finish.set()  # nothing more will come: write what is queued and return
    # act
    await asyncio.wait_for(sink.run(finish), 10)
    # assert
    assert sink.attempts == [([1, 2, 3, 4, 5], False), ([1, 2, 3, 4, 5], True), ([1, 2, 3, 4, 5], True)]
    assert sink.written == [1, 2, 3, 4, 5]
    assert sink.states_seen == [False]  # unready while failing
    ready, report = await health.readiness()
    assert ready
    assert report["flaky_writer"]["ok"] is True
    assert sink.depth == 0


async def test_batches_are_capped_and_events_it_does_not_store_are_ignored() -> None:
    # arrange
    sink = FlakySink(Health(), _options(batch_size=2))
    for trade_id in range(1, 6):
        sink.offer(_trade(trade_id))
    finish = asyncio.Event()
    finish.set()
    # act
    await asyncio.wait_for(sink.run(finish), 10)
    # assert
    assert [batch for batch, _ in sink.attempts] == [[1, 2], [3, 4], [5]]


async def test_writer_waits_for_events_and_stops_when_finished() -> None:
    # arrange
    sink = FlakySink(Health(), _options())
    finish = asyncio.Event()
    writer = asyncio.create_task(sink.run(finish))
    # act
    sink.offer(_trade(1))
    await asyncio.wait_for(sink.wrote.wait(), 10)
    written_alone = list(sink.written)
    sink.offer(_trade(2))
    finish.set()
    await asyncio.wait_for(writer, 10)
    # assert
    assert written_alone == [1]
    assert sink.written == [1, 2]


async def test_full_queue_drops_and_reports_unready_until_it_has_room_again() -> None:
    # arrange
    health = Health()
    sink = FlakySink(health, _options(maxsize=2))
    # act
    for trade_id in range(1, 5):
        sink.offer(_trade(trade_id))
    ready_when_full, report = await health.readiness()
    finish = asyncio.Event()
    finish.set()
    await asyncio.wait_for(sink.run(finish), 10)
    ready_after, _ = await health.readiness()
    # assert
    assert not ready_when_full
    assert report["flaky_queue"] == {"ok": False, "detail": "queue full: dropping events"}
    assert sink.written == [1, 2]
    assert ready_after


@settings(max_examples=3000)
@given(st.one_of(st.decimals(allow_nan=True, allow_infinity=True), st.builds(
    lambda c, e: Decimal(c).scaleb(e), st.integers(min_value=-(10**36), max_value=10**36),
    st.integers(min_value=-40, max_value=40))))  # fmt: skip
def test_fast_decimal128_is_pymongos_bit_for_bit(value: Decimal) -> None:
    # arrange
    def bid(convert: Callable[[Decimal], Decimal128]) -> bytes | type[Exception]:
        try:
            return convert(value).bid
        except Exception as e:  # the same error, whichever it is
            return type(e)

    # act / assert
    assert bid(to_decimal128) == bid(Decimal128)
