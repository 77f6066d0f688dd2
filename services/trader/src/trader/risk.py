"""Pre-trade risk checks. Pure: no I/O, time passed in; every refusal has a named reason.

Spot trading is long-only: a SELL can only sell what the position holds (a larger SELL is cut to
the position, a SELL with no position is refused). A BUY must fit the position limit and the
cash the account holds, fee included. Every order must fit the notional limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from algo_common.domain.models import Side, Signal

ZERO = Decimal(0)


class RejectReason(StrEnum):
    """Why a signal did not become an executed order (``trader_signals_rejected{reason}``)."""

    MALFORMED = "malformed"
    INVALID_ORDER = "invalid order"
    UNSUPPORTED_SYMBOL = "unsupported symbol"
    STALE_SIGNAL = "stale signal"
    NO_POSITION = "no position"
    MAX_ORDER_NOTIONAL = "max order notional"
    MAX_POSITION = "max position"
    INSUFFICIENT_BALANCE = "insufficient balance"
    POSITION_CHANGED = "position changed"
    """The position moved between the risk check and execution so the order no longer fits."""


@dataclass(frozen=True, slots=True)
class RiskLimits:
    quote_asset: str
    fee_rate: Decimal
    max_order_notional: Decimal
    max_position_qty: Decimal
    stale_signal_ms: int


@dataclass(frozen=True, slots=True)
class Account:
    """What the account holds when the signal is assessed."""

    position_qty: Decimal
    quote_balance: Decimal


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
    reason = _check_signal(signal, limits, now_ms)
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
    if signal.side is Side.BUY and notional * (1 + limits.fee_rate) > account.quote_balance:
        return RiskDecision(quantity, RejectReason.INSUFFICIENT_BALANCE)
    return RiskDecision(quantity)


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
