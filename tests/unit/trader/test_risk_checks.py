"""Pre-trade risk checks: each rule refuses what it should and lets the rest through."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import Side, Signal
from tests.unit.trader.trader_builders import make_signal
from trader.risk import Account, RejectReason, RiskLimits, VenueBalances, check
from trader.trading_state import TradingState

LIMITS = RiskLimits(
    quote_asset="USDT",
    fee_rate=Decimal("0.001"),
    max_order_notional=Decimal("1000"),
    max_position_qty=Decimal("2"),
    stale_signal_ms=60_000,
    max_daily_loss=Decimal("100"),
)
NOW = 1_000_000
FLAT = Account(position_qty=Decimal(0), quote_balance=Decimal("10000"))
HOLDING_ONE = Account(position_qty=Decimal(1), quote_balance=Decimal("10000"))


@pytest.mark.parametrize(
    ("signal", "account", "reason"),
    [
        (make_signal(Side.SELL), FLAT, RejectReason.NO_POSITION),
        (make_signal(Side.BUY, price="1000", quantity="1.01"), FLAT, RejectReason.MAX_ORDER_NOTIONAL),
        (make_signal(Side.SELL, price="1001", quantity="1"), HOLDING_ONE, RejectReason.MAX_ORDER_NOTIONAL),
        (make_signal(Side.BUY, price="10", quantity="1.5"), HOLDING_ONE, RejectReason.MAX_POSITION),
        (make_signal(ts_decision=NOW - 60_001), FLAT, RejectReason.STALE_SIGNAL),
        (make_signal(quantity="0"), FLAT, RejectReason.INVALID_ORDER),
        (make_signal(price="-1"), FLAT, RejectReason.INVALID_ORDER),
        (make_signal(price="NaN"), FLAT, RejectReason.INVALID_ORDER),
        (make_signal(symbol="BTCEUR"), FLAT, RejectReason.UNSUPPORTED_SYMBOL),
        (
            make_signal(Side.BUY, price="250", quantity="2"),
            Account(Decimal(0), quote_balance=Decimal("500.49")),
            RejectReason.INSUFFICIENT_BALANCE,
        ),
        (
            make_signal(Side.SELL),
            Account(Decimal(1), Decimal(0), state=TradingState.HALTED),
            RejectReason.TRADING_HALTED,
        ),
        (
            make_signal(Side.BUY),
            Account(Decimal(0), Decimal(10_000), state=TradingState.REDUCING),
            RejectReason.TRADING_REDUCING,
        ),
        (make_signal(Side.SELL), Account(Decimal(1), Decimal(0), day_pnl=Decimal("-100")), RejectReason.MAX_DAILY_LOSS),
    ],
    ids=[
        "sell-without-position",
        "buy-notional",
        "sell-notional",
        "max-position",
        "stale",
        "zero-qty",
        "negative-price",
        "nan-price",
        "other-quote",
        "balance-short-by-fee",
        "halted-refuses-even-a-reducing-sell",
        "reducing-refuses-a-buy",
        "daily-loss-reached",
    ],
)
def test_rule_rejects(signal: Signal, account: Account, reason: RejectReason) -> None:
    # arrange: the parameters
    # act
    decision = check(signal, account, LIMITS, NOW)
    # assert
    assert decision.reason is reason
    assert not decision.accepted


@pytest.mark.parametrize(
    ("signal", "account", "quantity"),
    [
        (make_signal(Side.BUY, price="500", quantity="2"), FLAT, Decimal("2")),
        (make_signal(Side.BUY, price="10", quantity="1"), HOLDING_ONE, Decimal("1")),
        (make_signal(Side.SELL, quantity="1"), HOLDING_ONE, Decimal("1")),
        (make_signal(Side.SELL, quantity="0.4"), HOLDING_ONE, Decimal("0.4")),
        (make_signal(Side.SELL, quantity="3"), HOLDING_ONE, Decimal("1")),
        (make_signal(ts_decision=NOW - 60_000), FLAT, Decimal("0.5")),
        (
            make_signal(Side.BUY, price="250", quantity="2"),
            Account(Decimal(0), quote_balance=Decimal("500.50")),
            Decimal("2"),
        ),
        (
            make_signal(Side.SELL, quantity="1"),
            Account(Decimal(1), Decimal(0), state=TradingState.REDUCING),
            Decimal("1"),
        ),
        (make_signal(Side.BUY), Account(Decimal(0), Decimal(10_000), day_pnl=Decimal("-99.99")), Decimal("0.5")),
    ],
    ids=[
        "buy-at-notional-limit",
        "buy-to-position-limit",
        "sell-all",
        "sell-part",
        "sell-cut-to-position",
        "stale-boundary",
        "balance-exactly-enough",
        "reducing-lets-a-sell-through",
        "daily-loss-just-below-the-limit",
    ],
)
def test_accepts_within_limits(signal: Signal, account: Account, quantity: Decimal) -> None:
    # arrange: the parameters
    # act
    decision = check(signal, account, LIMITS, NOW)
    # assert
    assert decision.accepted
    assert decision.quantity == quantity


def test_stale_check_disabled_with_zero() -> None:
    # arrange
    limits = RiskLimits(
        quote_asset="USDT",
        fee_rate=Decimal("0.001"),
        max_order_notional=Decimal("1000"),
        max_position_qty=Decimal("2"),
        stale_signal_ms=0,
    )
    # act
    decision = check(make_signal(ts_decision=0), FLAT, limits, NOW * 1000)
    # assert
    assert decision.accepted


def test_daily_loss_check_disabled_with_zero() -> None:
    # arrange
    limits = RiskLimits(
        quote_asset="USDT",
        fee_rate=Decimal("0.001"),
        max_order_notional=Decimal("1000"),
        max_position_qty=Decimal("2"),
        stale_signal_ms=0,
        max_daily_loss=Decimal(0),
    )
    # act
    decision = check(make_signal(), Account(Decimal(0), Decimal(10_000), day_pnl=Decimal("-1e9")), limits, NOW)
    # assert
    assert decision.accepted


def _on_venue(position: str, quote: str | None, base: str | None) -> Account:
    """An account whose free balances the venue reports (Binance); the ledger's cash is ignored."""
    venue = VenueBalances(quote=None if quote is None else Decimal(quote), base=None if base is None else Decimal(base))
    return Account(Decimal(position), quote_balance=Decimal(10**9), venue=venue)


@pytest.mark.parametrize(
    ("signal", "account", "reason"),
    [
        (make_signal(Side.BUY, price="250", quantity="2"), _on_venue("0", "500.49", "0"), "insufficient balance"),
        (make_signal(Side.SELL, quantity="1"), _on_venue("1", "0", "0.999"), "insufficient balance"),
        (make_signal(Side.BUY), _on_venue("0", None, "0"), "balance unknown"),
        (make_signal(Side.SELL, quantity="1"), _on_venue("1", "10000", None), "balance unknown"),
        (make_signal(Side.SELL, quantity="1"), _on_venue("1", None, None), "balance unknown"),
    ],
    ids=["buy-beyond-free-quote", "sell-beyond-free-base", "buy-quote-unknown", "sell-base-unknown", "both-unknown"],
)
def test_on_a_venue_with_balances_its_free_balances_decide(signal: Signal, account: Account, reason: str) -> None:
    # act
    decision = check(signal, account, LIMITS, NOW)
    # assert
    assert decision.reason == reason


@pytest.mark.parametrize(
    ("signal", "account", "quantity"),
    [
        (make_signal(Side.BUY, price="250", quantity="2"), _on_venue("0", "500.50", None), Decimal("2")),
        (make_signal(Side.SELL, quantity="1"), _on_venue("1", None, "1"), Decimal("1")),
        (make_signal(Side.SELL, quantity="0.01"), _on_venue("0.00999", None, "0.00999"), Decimal("0.00999")),
    ],
    ids=["buy-exactly-enough-quote", "sell-all-of-the-free-base", "sell-cut-to-what-a-base-commission-left"],
)
def test_on_a_venue_with_balances_an_order_within_them_passes(
    signal: Signal, account: Account, quantity: Decimal
) -> None:
    # act
    decision = check(signal, account, LIMITS, NOW)
    # assert
    assert decision.accepted
    assert decision.quantity == quantity


def test_the_ledger_cash_still_decides_without_venue_balances() -> None:
    # arrange: the paper venue: the venue's view is absent, the ledger's cash is short
    account = Account(Decimal(0), quote_balance=Decimal("500.49"))
    # act
    decision = check(make_signal(Side.BUY, price="250", quantity="2"), account, LIMITS, NOW)
    # assert
    assert decision.reason is RejectReason.INSUFFICIENT_BALANCE
