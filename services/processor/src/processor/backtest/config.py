"""What a backtest simulates besides the strategy: cash, size, fees, slippage, fill convention."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class FillAt(StrEnum):
    """When a decision taken at a bar's close is filled.

    ``next-open`` (default, as backtesting.py's ``trade_on_close=False``): at the next bar's open;
    a decision at the last bar is never filled. ``close``: at the deciding bar's own close, which
    assumes the order reaches the market at the very price that made the decision.
    """

    NEXT_OPEN = "next-open"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Long-only, at most one position of ``quantity`` base units, market orders only.

    A BUY fills at ``reference * (1 + slippage)``, a SELL at ``reference * (1 - slippage)``; each
    fill pays ``fee_rate * price * quantity`` in the quote asset. All exact Decimals.
    """

    cash: Decimal = Decimal(1_000_000)
    quantity: Decimal = Decimal(1)
    fee_rate: Decimal = Decimal(0)
    slippage: Decimal = Decimal(0)
    fill: FillAt = FillAt.NEXT_OPEN

    def __post_init__(self) -> None:
        object.__setattr__(self, "fill", FillAt(self.fill))  # "close" given as text is the enum member
        for name in ("cash", "quantity", "fee_rate", "slippage"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(f"{name} must be a finite Decimal, got {value!r}")
        if self.cash <= 0 or self.quantity <= 0:
            raise ValueError(f"cash and quantity must be > 0, got cash={self.cash} quantity={self.quantity}")
        if not (0 <= self.fee_rate < 1 and 0 <= self.slippage < 1):
            raise ValueError(f"fee_rate and slippage must be in [0, 1), got {self.fee_rate} and {self.slippage}")
