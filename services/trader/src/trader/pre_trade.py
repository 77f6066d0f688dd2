"""Gathers what the pure risk checks need, runs them, and applies their side effects.

Per signal: one Redis GET (trading state) and, concurrently, one MongoDB read (positions and
today's P&L, :meth:`trader.ledger.Ledger.account`), the pure :func:`trader.risk.check`, then
the orders-per-minute slot (one Redis script) for an order that passed everything else. A
breached daily-loss limit sets HALTED for every replica before the signal is refused. On a
venue that reports balances (Binance: ``venue_balances``, set by the service) the cash check
uses the venue's free balances, read from memory (no I/O), instead of the ledger's
``TRADER_STARTING_BALANCE`` arithmetic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from algo_common.domain.models import Side, Signal
from algo_common.logging import get_logger
from trader.daily_pnl import utc_day
from trader.ledger import Ledger
from trader.metrics import TraderMetrics
from trader.order_rate import OrderRate
from trader.position import Position, base_asset, cash_balance
from trader.risk import Account, RejectReason, RiskDecision, RiskLimits, VenueBalances, blocked_by_state, check
from trader.trading_state import StateRecord, TradingState, TradingStateStore

log = get_logger(__name__)


class BalanceSource(Protocol):
    """Free balances a venue reports (:class:`trader.venues.binance.balances.AccountBalances`)."""

    def free(self, asset: str) -> Decimal | None:
        """None: unknown or possibly stale."""
        ...

    def untrusted_reason(self) -> str | None: ...


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
        self.venue_balances: BalanceSource | None = None
        """The venue's balances for the cash check; None: the ledger's (paper venue)."""

    async def state(self) -> StateRecord:
        """The shared trading state, also published as the ``trader_trading_state`` gauge."""
        record = await self._controls.state.read()
        self._metrics.observe_state(record.state)
        return record

    async def assess(self, signal: Signal, now: int) -> RiskDecision:
        """Accept (with the quantity to trade) or refuse with a reason."""
        # The Redis GET and the one MongoDB read run concurrently (under HALTED the read is not needed, nor harmful).
        record, (positions, today) = await asyncio.gather(self.state(), self._ledger.account(utc_day(now)))
        if record.state is TradingState.HALTED:
            return RiskDecision(signal.quantity, RejectReason.TRADING_HALTED)
        held = next((p for p in positions if p.symbol == signal.symbol), None)
        account = Account(
            position_qty=(held or Position(venue=self._ledger.venue, symbol=signal.symbol)).qty,
            quote_balance=cash_balance(self._starting_balance, positions),
            day_pnl=today.realized_pnl - today.fees,
            state=record.state,
            venue=self._venue_free(signal.symbol),
        )
        decision = check(signal, account, self._limits, now)
        if decision.reason is RejectReason.BALANCE_UNKNOWN and self.venue_balances is not None:
            log.warning("venue balance not current", why=self.venue_balances.untrusted_reason())
        if decision.reason is RejectReason.MAX_DAILY_LOSS:
            await self._halt(f"max daily loss {self._limits.max_daily_loss} reached: day P&L {account.day_pnl}", now)
        elif decision.accepted and not await self._controls.rate.reserve(signal.signal_id, now):
            decision = RiskDecision(decision.quantity, RejectReason.MAX_ORDERS_PER_MINUTE)
        return decision

    def _venue_free(self, symbol: str) -> VenueBalances | None:
        source = self.venue_balances
        if source is None or not symbol.endswith(self._limits.quote_asset) or symbol == self._limits.quote_asset:
            return None  # paper venue; or a symbol the risk checks refuse anyway
        return VenueBalances(
            quote=source.free(self._limits.quote_asset), base=source.free(base_asset(symbol, self._limits.quote_asset))
        )

    async def still_allowed(self, side: Side) -> RejectReason | None:
        """For an intent found unsent after a crash: does the trading state still let it go out?"""
        return blocked_by_state(side, (await self.state()).state)

    async def _halt(self, reason: str, now: int) -> None:
        await self._controls.state.write(
            StateRecord(state=TradingState.HALTED, reason=reason, by=self._controls.actor, ts=now)
        )
        self._metrics.observe_state(TradingState.HALTED)
        log.error("trading halted by a breached limit", reason=reason)
