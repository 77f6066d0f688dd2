"""What a backtest produces: trades, the equity curve and the summary, built the same way for both engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec
import numpy as np
from numpy.typing import NDArray

from algo_common.domain.models import Side
from processor.backtest import stats
from processor.backtest.broker import Fill, SimulatedBroker
from processor.backtest.config import BacktestConfig
from processor.backtest.data import BarSeries
from processor.decimals import EXACT, VALUE, exactly

_ZERO = Decimal(0)


class Trade(msgspec.Struct, frozen=True, gc=False):  # no cycles: skip the garbage collector
    """A round trip: the BUY and, once closed, the SELL and its net result."""

    entry: Fill
    exit: Fill | None
    pnl: Decimal | None
    """Net profit of a closed trade: (exit - entry) * quantity - both fees; None while open."""

    @property
    def closed(self) -> bool:
        return self.exit is not None

    def return_pct(self) -> Decimal | None:
        """``pnl`` as a percentage of what the entry cost (notional plus fee), 28 digits."""
        if self.pnl is None:
            return None
        cost = EXACT.add(EXACT.multiply(self.entry.price, self.entry.quantity), self.entry.fee)
        return VALUE.divide(EXACT.multiply(self.pnl, Decimal(100)), cost)


@dataclass(frozen=True, slots=True)
class Summary:
    """Money in exact Decimals; ratios (drawdown, Sharpe, exposure, win rate) as floats, fractions of 1."""

    bars: int
    first_open_time: int
    last_close_time: int
    initial_cash: Decimal
    final_equity: Decimal
    total_return: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    closed_trades: int
    winning_trades: int
    win_rate: float | None
    max_drawdown: float
    sharpe: float | None
    exposure: float
    open_position: bool
    signals: int
    ignored_signals: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    strategy: str
    params: Mapping[str, str]
    config: BacktestConfig
    series: BarSeries
    fills: Sequence[Fill]
    trades: Sequence[Trade]
    """Every trade, oldest first; the last one may still be open."""
    equity: NDArray[np.float64]
    """Equity at each bar close, float64 (for statistics and plots; exact values: ``exact_equity``)."""
    summary: Summary

    @property
    def closed_trades(self) -> list[Trade]:
        return [t for t in self.trades if t.closed]


@exactly
def pair_trades(fills: Sequence[Fill]) -> list[Trade]:
    """BUY/SELL fills (alternating, as the broker makes them) -> round trips."""
    trades: list[Trade] = []
    entry: Fill | None = None
    for fill in fills:
        if fill.side is Side.BUY:
            entry = fill
        elif entry is not None:
            pnl = (fill.price - entry.price) * entry.quantity - (entry.fee + fill.fee)
            trades.append(Trade(entry, fill, pnl))
            entry = None
    if entry is not None:
        trades.append(Trade(entry, None, None))
    return trades


@exactly
def build_result(
    series: BarSeries,
    strategy: str,
    params: Mapping[str, str],
    broker: SimulatedBroker,
    signals: int,
    unfilled: int,
) -> BacktestResult:
    """Trades, equity curve and summary of a finished run (``unfilled``: decisions left at the end)."""
    config = broker.config
    fills = list(broker.fills)
    trades = pair_trades(fills)
    curve = stats.equity_curve(series.close, fills, config.cash)
    ignored = dict(broker.ignored)
    if unfilled:
        ignored["end_of_data"] = unfilled
    summary = _summarize(series, broker, trades, curve, signals, ignored)
    return BacktestResult(strategy, dict(params), config, series, fills, trades, curve.equity, summary)


def _summarize(
    series: BarSeries,
    broker: SimulatedBroker,
    trades: Sequence[Trade],
    curve: stats.Curve,
    signals: int,
    ignored: Mapping[str, int],
) -> Summary:
    config = broker.config
    closed = [t.pnl for t in trades if t.pnl is not None]
    realized = sum(closed, _ZERO)  # exact: build_result runs under the exact context
    final = broker.cash + broker.position * series.klines[-1].close
    open_trade = trades[-1] if trades and not trades[-1].closed else None
    unrealized = final - config.cash - realized if open_trade else _ZERO
    winners = sum(1 for pnl in closed if pnl > 0)
    return Summary(
        bars=len(series),
        first_open_time=int(series.open_time[0]),
        last_close_time=int(series.close_time[-1]),
        initial_cash=config.cash,
        final_equity=final,
        total_return=VALUE.divide(final - config.cash, config.cash),
        realized_pnl=realized,
        unrealized_pnl=unrealized,
        fees=sum((f.fee for f in broker.fills), _ZERO),
        closed_trades=len(closed),
        winning_trades=winners,
        win_rate=winners / len(closed) if closed else None,
        max_drawdown=stats.max_drawdown(curve.equity),
        sharpe=stats.sharpe(curve.equity, stats.bars_per_year(series.interval_ms)),
        exposure=curve.exposure,
        open_position=open_trade is not None,
        signals=signals,
        ignored_signals=ignored,
    )
