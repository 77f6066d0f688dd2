"""The trader's fewer round trips on real MongoDB: one pre-trade read, remembered positions, one-command writes.

A remembered position may be stale (another replica wrote since); these tests prove that it only
costs a retry with a fresh read, on both write paths (one ``bulkWrite``, or one command per
collection as on MongoDB 7.0).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Side, Signal
from algo_common.mongo import Document, get_database
from tests.integration.trader.trader_harness import make_signal
from trader.daily_pnl import utc_day
from trader.ledger import AppliedUpdate, Ledger
from trader.orders import intent_document, order_request
from trader.outcome_writes import client_bulk_write_supported
from trader.position import Position
from trader.venues.paper_fills import PaperTerms, execute

TERMS = PaperTerms(fee_rate=Decimal("0.001"), fee_asset="USDT", slippage_bps=Decimal(0), use_book=False)
T0 = 1_795_000_000_000
PATHS = [pytest.param(True, id="one-bulkWrite"), pytest.param(False, id="one-command-per-collection")]


async def _trade(ledger: Ledger, signal: Signal, ts: int = T0) -> AppliedUpdate:
    """What the executor does after the venue answered: intent, then the outcome with its fill."""
    order = intent_document(signal, signal.quantity, "paper", "USDT", ts)
    assert await ledger.insert_order(order)
    return await ledger.apply_order_update(execute(order_request(signal, order), None, TERMS, ts), ts, known=order)


async def _ledger(client: AsyncMongoClient[Document], db: AsyncDatabase[Document], one_command: bool) -> Ledger:
    await client.admin.command("ping")  # the driver knows the server's wire version from then on
    if one_command and not client_bulk_write_supported(client):
        pytest.skip("this MongoDB has no bulkWrite command (before 8.0)")
    return Ledger(client, db, "paper", "USDT", one_command_writes=one_command)


async def _stored(client: AsyncMongoClient[Document], db: AsyncDatabase[Document]) -> tuple[Position, Decimal, Decimal]:
    """The stored BTCUSDT position (read by a new ledger), and the P&L and fees summed over the daily_pnl rows."""
    position = await Ledger(client, db, "paper", "USDT").position("BTCUSDT")
    days = [doc async for doc in db.daily_pnl.find({})]
    return (
        position,
        sum((d["realized_pnl"] for d in days), Decimal(0)),
        sum((d["fees"] for d in days), Decimal(0)),
    )


@pytest.mark.parametrize("one_command", PATHS)
async def test_buy_then_sell_writes_the_same_on_both_paths(
    mongo_client: AsyncMongoClient[Document], mongo_db: AsyncDatabase[Document], one_command: bool
) -> None:
    # arrange
    ledger = await _ledger(mongo_client, mongo_db, one_command)
    await ledger.ensure_indexes()
    # act
    await _trade(ledger, make_signal(Side.BUY, "100", "0.5", bar_close_time=60_000))
    sold = await _trade(ledger, make_signal(Side.SELL, "120", "0.2", bar_close_time=120_000))
    # assert
    position, day_pnl, day_fees = await _stored(mongo_client, mongo_db)
    assert sold.position == position
    assert (position.qty, position.realized_pnl, position.version) == (Decimal("0.3"), Decimal("4.0"), 2)
    assert position.fees == Decimal("0.05") + Decimal("0.024")
    assert (day_pnl, day_fees) == (position.realized_pnl, position.fees)
    assert await mongo_db.fills.count_documents({}) == 2


@pytest.mark.parametrize("one_command", PATHS)
async def test_a_position_another_replica_moved_costs_a_retry_not_a_lost_update(
    mongo_client: AsyncMongoClient[Document], mongo_db: AsyncDatabase[Document], one_command: bool
) -> None:
    # arrange: replica A remembers version 1; replica B then writes version 2
    replica_a = await _ledger(mongo_client, mongo_db, one_command)
    replica_b = await _ledger(mongo_client, mongo_db, one_command)
    await replica_a.ensure_indexes()
    await _trade(replica_a, make_signal(Side.BUY, "100", "0.5", bar_close_time=60_000))
    await _trade(replica_b, make_signal(Side.BUY, "100", "0.25", bar_close_time=120_000))
    # act: A starts from its stale copy
    applied = await _trade(replica_a, make_signal(Side.BUY, "100", "0.1", bar_close_time=180_000))
    # assert
    position, _, day_fees = await _stored(mongo_client, mongo_db)
    assert applied.position == position
    assert (position.qty, position.version) == (Decimal("0.85"), 3)
    assert position.fees == day_fees == Decimal("0.085")


@pytest.mark.parametrize("one_command", PATHS)
async def test_a_sell_judged_on_a_stale_copy_is_judged_again_on_a_fresh_read(
    mongo_client: AsyncMongoClient[Document], mongo_db: AsyncDatabase[Document], one_command: bool
) -> None:
    # arrange: A remembers 0.5 held; B buys 0.5 more
    replica_a = await _ledger(mongo_client, mongo_db, one_command)
    replica_b = await _ledger(mongo_client, mongo_db, one_command)
    await replica_a.ensure_indexes()
    await _trade(replica_a, make_signal(Side.BUY, "100", "0.5", bar_close_time=60_000))
    await _trade(replica_b, make_signal(Side.BUY, "100", "0.5", bar_close_time=120_000))
    # act: a SELL of 0.8 is more than A's copy holds, not more than the account holds
    applied = await _trade(replica_a, make_signal(Side.SELL, "110", "0.8", bar_close_time=180_000))
    # assert
    position, day_pnl, _ = await _stored(mongo_client, mongo_db)
    assert applied.position == position
    assert (position.qty, position.realized_pnl, position.version) == (Decimal("0.2"), Decimal("8.0"), 3)
    assert day_pnl == position.realized_pnl


async def test_account_is_every_position_and_the_days_pnl(
    mongo_client: AsyncMongoClient[Document], mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: two symbols traded today, and a row of another day that must not count
    ledger = Ledger(mongo_client, mongo_db, "paper", "USDT")
    await ledger.ensure_indexes()
    await _trade(ledger, make_signal(Side.BUY, "100", "0.5", bar_close_time=60_000))
    await _trade(ledger, make_signal(Side.SELL, "90", "0.5", bar_close_time=120_000))
    eth = make_signal(Side.BUY, "10", "2", bar_close_time=180_000)
    await _trade(ledger, msgspec.structs.replace(eth, symbol="ETHUSDT"))
    await mongo_db.daily_pnl.insert_one(
        {"_id": "paper:BTCUSDT:2000-01-01", "venue": "paper", "symbol": "BTCUSDT", "day": "2000-01-01",
         "realized_pnl": Decimal(-1000), "fees": Decimal(1)}
    )  # fmt: skip
    # act
    positions, today = await ledger.account(utc_day(T0))
    # assert
    assert sorted(positions, key=lambda p: p.symbol) == sorted(await ledger.positions(), key=lambda p: p.symbol)
    assert {p.symbol for p in positions} == {"BTCUSDT", "ETHUSDT"}
    assert today == await ledger.daily_pnl(utc_day(T0))
    assert (today.realized_pnl, today.fees) == (Decimal("-5.0"), Decimal("0.05") + Decimal("0.045") + Decimal("0.02"))


class _Commands(monitoring.CommandListener):
    """Names of the commands a client sends (one round trip each)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.parametrize(
    ("one_command", "expected"),
    [
        pytest.param(True, ["update", "bulkWrite", "commitTransaction"], id="one-bulkWrite"),
        pytest.param(
            False, ["update", "insert", "update", "update", "commitTransaction"], id="one-command-per-collection"
        ),
    ],
)
async def test_an_outcome_reads_nothing_in_its_transaction(
    mongo_uri: str, db_name: str, one_command: bool, expected: list[str]
) -> None:
    # arrange: the ledger has read the position (as the pre-trade check does) and holds the intent
    commands = _Commands()
    client = AsyncMongoClient[Document](mongo_uri, w="majority", event_listeners=[commands])
    try:
        db = get_database(client, db_name)
        ledger = await _ledger(client, db, one_command)
        await ledger.ensure_indexes()
        await _trade(ledger, make_signal(Side.BUY, "100", "0.5", bar_close_time=60_000))
        await ledger.account(utc_day(T0))
        signal = make_signal(Side.BUY, "100", "0.25", bar_close_time=120_000)
        order = intent_document(signal, signal.quantity, "paper", "USDT", T0)
        assert await ledger.insert_order(order)
        commands.names.clear()
        # act
        await ledger.apply_order_update(execute(order_request(signal, order), None, TERMS, T0), T0, known=order)
        # assert
        assert commands.names == expected
        assert (await ledger.position("BTCUSDT")).qty == Decimal("0.75")
    finally:
        await client.drop_database(db_name)
        await client.close()
