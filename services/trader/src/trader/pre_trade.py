"""Gathers what the pure risk checks need, runs them, and applies their side effects.

Per signal: one Redis GET (trading state), two concurrent MongoDB reads (positions, today's
P&L), the pure :func:`trader.risk.check`, then the orders-per-minute slot (one Redis script)
for an order that passed everything else. A breached daily-loss limit sets HALTED for every
replica before the signal is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from algo_common.domain.models import Side, Signal
from algo_common.logging import get_logger
from trader.daily_pnl import utc_day
from trader.ledger import Ledger
from trader.metrics import TraderMetrics
from trader.order_rate import OrderRate
from trader.position import Position, cash_balance
from trader.risk import Account, RejectReason, RiskDecision, RiskLimits, blocked_by_state, check
from trader.trading_state import StateRecord, TradingState, TradingStateStore

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Controls:
    """The shared (Redis) controls: trading state and the order-rate window."""

    state: TradingStateStore
    rate: OrderRate
    actor: str
    """Who sets HALTED on a breached limit (the consumer name), kept in the state record."""


class PreTrade:
    def __init__(
        self,
        ledger: Ledger,
        controls: Controls,
        limits: RiskLimits,
        starting_balance: Decimal,
        metrics: TraderMetrics,
        clock: Callable[[], int],
    ) -> None:
        self._ledger = ledger
        self._controls = controls
        self._limits = limits
        self._starting_balance = starting_balance
        self._metrics = metrics
        self._clock = clock

    async def state(self) -> StateRecord:
        """The shared trading state, also published as the ``trader_trading_state`` gauge."""
        record = await self._controls.state.read()
        self._metrics.observe_state(record.state)
        return record

    async def assess(self, signal: Signal, now: int) -> RiskDecision:
        """Accept (with the quantity to trade) or refuse with a reason."""
        record = await self.state()
        if record.state is TradingState.HALTED:  # no MongoDB reads needed to refuse
            return RiskDecision(signal.quantity, RejectReason.TRADING_HALTED)
        positions, today = await asyncio.gather(self._ledger.positions(), self._ledger.daily_pnl(utc_day(now)))
        held = next((p for p in positions if p.symbol == signal.symbol), None)
        account = Account(
            position_qty=(held or Position(venue=self._ledger.venue, symbol=signal.symbol)).qty,
            quote_balance=cash_balance(self._starting_balance, positions),
            day_pnl=today.realized_pnl - today.fees,
            state=record.state,
        )
        decision = check(signal, account, self._limits, now)
        if decision.reason is RejectReason.MAX_DAILY_LOSS:
            await self._halt(f"max daily loss {self._limits.max_daily_loss} reached: day P&L {account.day_pnl}", now)
        elif decision.accepted and not await self._controls.rate.reserve(signal.signal_id, now):
            decision = RiskDecision(decision.quantity, RejectReason.MAX_ORDERS_PER_MINUTE)
        return decision

    async def still_allowed(self, side: Side) -> RejectReason | None:
        """For an intent found unsent after a crash: does the trading state still let it go out?"""
        return blocked_by_state(side, (await self.state()).state)

    async def _halt(self, reason: str, now: int) -> None:
        await self._controls.state.write(
            StateRecord(state=TradingState.HALTED, reason=reason, by=self._controls.actor, ts=now)
        )
        self._metrics.observe_state(TradingState.HALTED)
        log.error("trading halted by a breached limit", reason=reason)
