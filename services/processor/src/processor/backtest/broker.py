"""The simulated exchange account of a backtest: fills market orders, keeps cash and the position.

Long-only with at most one position of a fixed quantity: a BUY while long and a SELL while flat
are ignored (counted), a BUY the cash cannot pay (price, slippage and fee) is refused (counted).
Both engines drive the same broker, so the same decisions always give the same fills. Money is
computed with Decimal operators under the exact context (:func:`processor.decimals.exact_context`).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import msgspec

from algo_common.domain.models import Side
from processor.backtest.config import BacktestConfig
from processor.decimals import EXACT, exact_context, is_exact

_ZERO = Decimal(0)
_BUY = Side.BUY


class Fill(msgspec.Struct, frozen=True, gc=False):  # no cycles: skip the garbage collector
    """One simulated execution and the account right after it."""

    signal_bar: int  # index of the bar whose close decided it
    bar: int  # index of the bar whose price filled it (signal_bar + 1 for next-open fills)
    time: int  # epoch ms of the fill: that bar's open time (next-open) or close time (close)
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal
    cash_after: Decimal
    position_after: Decimal


class SimulatedBroker:
    """Executes decisions against one account; read :attr:`fills` and :attr:`ignored` afterwards."""

    def __init__(self, config: BacktestConfig) -> None:
        self.config = config
        self.cash = config.cash
        self.position = _ZERO
        self.fills: list[Fill] = []
        self.ignored: Counter[str] = Counter()
        self._buy_factor = EXACT.add(1, config.slippage)
        self._sell_factor = EXACT.subtract(1, config.slippage)

    def execute(self, side: Side, signal_bar: int, bar: int, time: int, reference: Decimal) -> Fill | None:
        """Fill ``side`` at ``reference`` (the bar's open or close) if the account allows it."""
        if not is_exact():  # checked inline: a decorator's call would cost more than the fill (the engines enter it)
            with exact_context():
                return self.execute(side, signal_bar, bar, time, reference)
        config = self.config
        if side is _BUY:
            if self.position:
                self.ignored["already_long"] += 1
                return None
            price = reference * self._buy_factor
            quantity = config.quantity
            notional = price * quantity
            fee = notional * config.fee_rate
            if notional + fee > self.cash:
                self.ignored["insufficient_cash"] += 1
                return None
            self.cash -= notional + fee
            self.position = quantity
        else:
            if not self.position:
                self.ignored["flat"] += 1
                return None
            price = reference * self._sell_factor
            quantity = self.position
            notional = price * quantity
            fee = notional * config.fee_rate
            self.cash += notional - fee
            self.position = _ZERO
        fill = Fill(signal_bar, bar, time, side, price, quantity, fee, self.cash, self.position)
        self.fills.append(fill)
        return fill
