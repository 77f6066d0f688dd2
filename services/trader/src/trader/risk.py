"""Pre-trade risk checks. Pure: no I/O, time passed in; every refusal has a named reason.

Order of the checks: the trading state (HALTED refuses everything, REDUCING every BUY), the
signal itself (valid, tradable symbol, not stale), the day's loss (a breached limit refuses and
makes the executor set HALTED), then the order against the account. Spot trading is long-only:
a SELL can only sell what the position holds (a larger SELL is cut to the position, a SELL with
no position is refused). A BUY must fit the position limit and the cash the account holds, fee
included. Every order must fit the notional limit. On a venue that reports balances (Binance),
the cash is the venue's free quote balance and a SELL must also fit the free base balance; a
balance the venue has not reported, or one that may be out of date, refuses the order (fail
safe). The orders-per-minute limit is the last check, made atomically in Redis by the executor
(:mod:`trader.order_rate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from algo_common.domain.models import Side, Signal
from trader.trading_state import TradingState

ZERO = Decimal(0)


class RejectReason(StrEnum):
    """Why a signal did not become an executed order (``trader_signals_rejected{reason}``)."""

    MALFORMED = "malformed"
    TRADING_HALTED = "trading halted"
    TRADING_REDUCING = "trading reducing"
    """REDUCING: an order that would increase a position."""
    MAX_DAILY_LOSS = "max daily loss"
    MAX_ORDERS_PER_MINUTE = "max orders per minute"
    INVALID_ORDER = "invalid order"
    UNSUPPORTED_SYMBOL = "unsupported symbol"
    STALE_SIGNAL = "stale signal"
    NO_POSITION = "no position"
    MAX_ORDER_NOTIONAL = "max order notional"
    MAX_POSITION = "max position"
    INSUFFICIENT_BALANCE = "insufficient balance"
    BALANCE_UNKNOWN = "balance unknown"
    """The venue's balance is not known or may be stale (user data stream down, snapshot too old)."""
    VENUE_REJECTED = "venue rejected"
    """The venue refused the order (its own reason is stored in the order's ``reject_reason``)."""
    POSITION_CHANGED = "position changed"
    """The position moved between the risk check and execution so the order no longer fits."""


@dataclass(frozen=True, slots=True)
class RiskLimits:
    quote_asset: str
    fee_rate: Decimal
    max_order_notional: Decimal
    max_position_qty: Decimal
    stale_signal_ms: int
    max_daily_loss: Decimal = ZERO
    """Largest loss of one UTC day (realized P&L minus fees, see :mod:`trader.daily_pnl`); 0: off."""


@dataclass(frozen=True, slots=True)
class VenueBalances:
    """Free balances as the venue reports them; None: unknown or possibly stale."""

    quote: Decimal | None
    base: Decimal | None


@dataclass(frozen=True, slots=True)
class Account:
    """What the account holds when the signal is assessed."""

    position_qty: Decimal
    quote_balance: Decimal
    """Cash derived from the ledger (the paper venue's); not used when ``venue`` is given."""
    day_pnl: Decimal = ZERO
    """Today's realized P&L minus fees (negative: a loss)."""
    state: TradingState = TradingState.ACTIVE
    venue: VenueBalances | None = None
    """The venue's own free balances (Binance); None: the venue keeps none (paper)."""


@dataclass(frozen=True, slots=True)
class RiskDecision:
    quantity: Decimal
    """Quantity to trade: the signal's, or for a SELL at most the position."""
    reason: RejectReason | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def check(signal: Signal, account: Account, limits: RiskLimits, now_ms: int) -> RiskDecision:
    """Accept the signal (with the quantity to trade) or name the first rule it breaks."""
    reason = _check_state(signal, account.state) or _check_signal(signal, limits, now_ms)
    if reason is None and limits.max_daily_loss > ZERO and -account.day_pnl >= limits.max_daily_loss:
        reason = RejectReason.MAX_DAILY_LOSS
    if reason is not None:
        return RiskDecision(signal.quantity, reason)
    if signal.side is Side.SELL:
        if account.position_qty <= ZERO:
            return RiskDecision(signal.quantity, RejectReason.NO_POSITION)
        quantity = min(signal.quantity, account.position_qty)
    else:
        quantity = signal.quantity
        if account.position_qty + quantity > limits.max_position_qty:
            return RiskDecision(quantity, RejectReason.MAX_POSITION)
    notional = signal.price * quantity
    if notional > limits.max_order_notional:
        return RiskDecision(quantity, RejectReason.MAX_ORDER_NOTIONAL)
    reason = _check_balance(signal.side, quantity, notional * (1 + limits.fee_rate), account)
    return RiskDecision(quantity, reason)


def _check_balance(side: Side, quantity: Decimal, cost: Decimal, account: Account) -> RejectReason | None:
    """A BUY's notional and fee within the free quote, a SELL's quantity within the free base."""
    if account.venue is None:
        return RejectReason.INSUFFICIENT_BALANCE if side is Side.BUY and cost > account.quote_balance else None
    free, needed = (account.venue.quote, cost) if side is Side.BUY else (account.venue.base, quantity)
    if free is None:
        return RejectReason.BALANCE_UNKNOWN
    return RejectReason.INSUFFICIENT_BALANCE if needed > free else None


def _check_state(signal: Signal, state: TradingState) -> RejectReason | None:
    return blocked_by_state(signal.side, state)


def blocked_by_state(side: Side, state: TradingState) -> RejectReason | None:
    """Whether the trading state forbids sending an order of ``side`` now (also for a resumed intent)."""
    if state is TradingState.HALTED:
        return RejectReason.TRADING_HALTED
    if state is TradingState.REDUCING and side is Side.BUY:
        return RejectReason.TRADING_REDUCING
    return None


def _check_signal(signal: Signal, limits: RiskLimits, now_ms: int) -> RejectReason | None:
    """Checks on the signal alone, before the account matters."""
    if not (signal.quantity.is_finite() and signal.price.is_finite()):
        return RejectReason.INVALID_ORDER
    if signal.quantity <= ZERO or signal.price <= ZERO:
        return RejectReason.INVALID_ORDER
    if not signal.symbol.endswith(limits.quote_asset) or signal.symbol == limits.quote_asset:
        return RejectReason.UNSUPPORTED_SYMBOL
    if limits.stale_signal_ms > 0 and now_ms - signal.ts_decision > limits.stale_signal_ms:
        return RejectReason.STALE_SIGNAL
    return None
