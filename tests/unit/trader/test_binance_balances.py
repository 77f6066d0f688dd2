"""The account's balances for the risk check: snapshot plus user data events, trusted only when current."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

import msgspec

from algo_common.binance.signing import HmacSigner
from algo_common.binance.trading_schemas import (
    BinanceAccount,
    BinanceBalanceUpdate,
    BinanceExecutionReport,
    BinanceOutboundAccountPosition,
    BinanceUserDataMessage,
)
from tests.unit.trader.binance_payloads import BALANCE_UPDATE, OUTBOUND_ACCOUNT_POSITION
from trader.venues.binance.balances import AccountBalances
from trader.venues.binance.clock import ServerClock
from trader.venues.binance.metrics import binance_metrics
from trader.venues.binance.userstream import UserStream

MAX_AGE_MS = 60_000
E = TypeVar("E", bound=msgspec.Struct)


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def _account(update_time: int, **balances: str) -> BinanceAccount:
    """A ``GET /api/v3/account`` answer (omitZeroBalances) as the documentation shows it."""
    listed = ", ".join(f'{{"asset": "{a}", "free": "{f}", "locked": "0.00000000"}}' for a, f in balances.items())
    raw = f"""{{"makerCommission": 15, "takerCommission": 15, "buyerCommission": 0, "sellerCommission": 0,
      "commissionRates": {{"maker": "0.00150000", "taker": "0.00150000", "buyer": "0.00000000",
      "seller": "0.00000000"}}, "canTrade": true, "canWithdraw": true, "canDeposit": true, "brokered": false,
      "requireSelfTradePrevention": false, "preventSor": false, "updateTime": {update_time},
      "accountType": "SPOT", "balances": [{listed}], "permissions": ["SPOT"], "uid": 354937868}}"""
    return msgspec.json.decode(raw, type=BinanceAccount)


def _event(raw: bytes, kind: type[E]) -> E:
    """The event inside the WebSocket API envelope."""
    return msgspec.json.decode(msgspec.json.decode(raw, type=BinanceUserDataMessage).event, type=kind)


def _live(clock: _Clock, update_time: int = 100, **balances: str) -> AccountBalances:
    """Balances with the stream subscribed and a snapshot taken under it."""
    book = AccountBalances(clock, MAX_AGE_MS)
    book.stream_connected()
    book.load(_account(update_time, **balances), book.snapshot_token(), clock())
    return book


def test_a_snapshot_under_a_live_subscription_is_trusted_and_unlisted_assets_are_zero() -> None:
    # arrange
    clock = _Clock()
    # act
    book = _live(clock, USDT="1000.5", BTC="0.00999")
    # assert
    assert (book.free("USDT"), book.free("BTC"), book.free("ETH")) == (
        Decimal("1000.5"),
        Decimal("0.00999"),
        Decimal(0),
    )
    assert book.trusted.is_set()


def test_nothing_is_trusted_before_a_snapshot_or_without_the_stream() -> None:
    # arrange
    clock = _Clock()
    before_snapshot = AccountBalances(clock, MAX_AGE_MS)
    before_snapshot.stream_connected()
    without_stream = AccountBalances(clock, MAX_AGE_MS)
    without_stream.load(_account(100, USDT="1"), without_stream.snapshot_token(), clock())
    # act / assert
    assert before_snapshot.free("USDT") is None
    assert without_stream.free("USDT") is None
    assert without_stream.untrusted_reason() == "user data stream not subscribed"


def test_a_lost_stream_makes_the_balances_stale_until_a_snapshot_under_the_new_subscription() -> None:
    # arrange
    clock = _Clock()
    book = _live(clock, USDT="1000")
    token = book.snapshot_token()  # a snapshot requested before the stream dropped
    # act
    book.stream_lost()
    lost = book.free("USDT")
    book.stream_connected()
    book.load(_account(200, USDT="900"), token, clock())  # answered after the reconnect: events may be missed
    still_stale = book.free("USDT")
    book.load(_account(300, USDT="800"), book.snapshot_token(), clock())
    # assert
    assert (lost, still_stale, book.free("USDT")) == (None, None, Decimal("800"))


def test_an_old_snapshot_is_stale() -> None:
    # arrange
    clock = _Clock()
    book = _live(clock, USDT="1000")
    # act
    clock.now += MAX_AGE_MS
    at_limit = book.free("USDT")
    clock.now += 1
    # assert
    assert at_limit == Decimal("1000")
    assert book.free("USDT") is None
    assert book.untrusted_reason() == f"account snapshot {MAX_AGE_MS + 1} ms old"


def test_account_position_events_replace_balances_and_older_ones_are_skipped() -> None:
    # arrange: the documentation's event: u = 1564034571073, ETH free 10000.000000
    clock = _Clock()
    book = _live(clock, update_time=1564034571000, ETH="1")
    event = _event(OUTBOUND_ACCOUNT_POSITION, BinanceOutboundAccountPosition)
    # act
    book.on_account_position(event)
    book.load(_account(1564034570000, ETH="2"), book.snapshot_token(), clock())  # an older snapshot
    # assert
    assert book.free("ETH") == Decimal("10000.000000")


def test_a_balance_update_adds_its_delta_once() -> None:
    # arrange: the documentation's event: BTC +100.00000000 at T 1573200697068
    clock = _Clock()
    book = _live(clock, update_time=1573200697000, BTC="1")
    event = _event(BALANCE_UPDATE, BinanceBalanceUpdate)
    # act
    book.on_balance_update(event)
    book.on_balance_update(event)  # replayed: already reflected
    after_delta = book.free("BTC")
    book.load(_account(1573200697068, BTC="101"), book.snapshot_token(), clock())  # the snapshot including it
    # assert
    assert after_delta == Decimal("101.00000000")
    assert book.free("BTC") == Decimal("101")


async def test_the_user_stream_hands_balance_events_to_the_balances() -> None:
    # arrange
    clock = _Clock()
    book = _live(clock, update_time=1, ETH="1", BTC="1")
    stream = UserStream(
        "ws://unused",
        HmacSigner("api-key", "secret"),
        ServerClock(_server_time, refresh_s=60, local_ms=clock),
        5000,
        _no_report,
        _nothing,
        binance_metrics(),
        open_timeout_s=1,
        backoff_base_s=0.1,
        backoff_cap_s=1,
        balances=book,
    )
    # act
    await stream.dispatch(OUTBOUND_ACCOUNT_POSITION)
    await stream.dispatch(BALANCE_UPDATE)
    # assert
    assert (book.free("ETH"), book.free("BTC")) == (Decimal("10000.000000"), Decimal("101.00000000"))


async def _server_time() -> int:
    return 1_000_000


async def _no_report(_report: BinanceExecutionReport) -> None:
    raise AssertionError("no execution report expected")


async def _nothing() -> None:
    return None
