"""The trader's OpenTelemetry instruments (names fixed by docs/contracts-draft.md).

Metric values are floats for Prometheus only; nothing read from them is stored or traded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from opentelemetry.metrics import Counter, Histogram, _Gauge

from algo_common.telemetry import get_meter
from trader.position import Position
from trader.trading_state import STATE_LEVEL, TradingState


@dataclass(frozen=True)
class TraderMetrics:
    signals_consumed: Counter
    orders: Counter
    fills: Counter
    order_latency: Histogram
    signals_rejected: Counter
    dependency_errors: Counter
    position_qty: _Gauge
    realized_pnl: _Gauge
    trading_state: _Gauge

    def observe_state(self, state: TradingState) -> None:
        self.trading_state.set(STATE_LEVEL[state])

    def observe_position(self, position: Position) -> None:
        attributes = {"symbol": position.symbol}
        self.position_qty.set(float(position.qty), attributes)
        self.realized_pnl.set(float(position.realized_pnl), attributes)


@cache
def trader_metrics() -> TraderMetrics:
    """The process's instruments, created once (every trader in the process shares them)."""
    meter = get_meter("trader")
    return TraderMetrics(
        signals_consumed=meter.create_counter(
            "trader_signals_consumed", description="Signal stream entries read, redeliveries included."
        ),
        orders=meter.create_counter("trader_orders", description="Order outcomes recorded, by final status and side."),
        fills=meter.create_counter("trader_fills", description="Fills recorded, by side."),
        order_latency=meter.create_histogram(
            "trader_order_latency",
            unit="s",
            description="Signal decision time to order outcome recorded in MongoDB, by status.",
        ),
        signals_rejected=meter.create_counter(
            "trader_signals_rejected", description="Signals not executed, by reason (risk checks, malformed)."
        ),
        dependency_errors=meter.create_counter(
            "trader_dependency_errors", description="Failed Redis/MongoDB operations, by dependency."
        ),
        position_qty=meter.create_gauge("trader_position_qty", description="Position held, base asset."),
        realized_pnl=meter.create_gauge(
            "trader_realized_pnl", description="Realized PnL of the symbol, quote asset, fees excluded."
        ),
        trading_state=meter.create_gauge(
            "trader_trading_state",
            description="Trading state as this replica last read it: 0 ACTIVE, 1 REDUCING, 2 HALTED.",
        ),
    )
