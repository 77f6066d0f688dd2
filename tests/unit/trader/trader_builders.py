"""Builders shared by the trader unit tests."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.models import Fill, Side, Signal


def make_signal(
    side: Side = Side.BUY,
    price: str = "100",
    quantity: str = "0.5",
    *,
    symbol: str = "BTCUSDT",
    ts_decision: int = 1_000_000,
    signal_id: str = "0123456789abcdef0123456789abcdef",
) -> Signal:
    return Signal(
        signal_id=signal_id,
        strategy="sma_cross",
        strategy_version="1",
        params={"fast": "2", "slow": "4"},
        symbol=symbol,
        interval="1m",
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        indicators={"fast": Decimal("1"), "slow": Decimal("2")},
        bar_open_time=0,
        bar_close_time=59_999,
        ts_event=60_000,
        ts_decision=ts_decision,
    )


def make_fill(side: Side, price: str, qty: str, fee: str = "0", n: int = 1) -> Fill:
    return Fill(
        fill_id=f"order-{n}",
        client_order_id="order",
        symbol="BTCUSDT",
        side=side,
        price=Decimal(price),
        qty=Decimal(qty),
        fee=Decimal(fee),
        fee_asset="USDT",
        ts=n,
    )
