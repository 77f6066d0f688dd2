"""Position accounting per venue and symbol. Pure and exact: Decimal only, no rounding.

Average entry price is the quantity-weighted mean of the buys still held; a sell realizes
``(sell price - average entry) * qty`` and leaves the average unchanged; fees are accumulated
separately (not inside the PnL), in the quote asset.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import msgspec

from algo_common.domain.models import Fill, Side

ZERO = Decimal(0)


class Oversell(Exception):
    """A sell for more than the position holds: spot trading is long-only."""


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """The ``positions`` document; ``version`` guards concurrent updates (optimistic locking)."""

    venue: str
    symbol: str
    qty: Decimal = ZERO
    avg_entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    updated_at: int = 0
    version: int = 0

    @property
    def position_id(self) -> str:
        return position_id(self.venue, self.symbol)


def position_id(venue: str, symbol: str) -> str:
    return f"{venue}:{symbol}"


def apply_fill(position: Position, fill: Fill, quote_asset: str) -> Position:
    """The position after one fill; raises :class:`Oversell` when a sell exceeds the holding."""
    if fill.fee_asset != quote_asset:
        raise ValueError(f"fee in {fill.fee_asset}, only fees in {quote_asset} are supported")
    if fill.side is Side.BUY:
        qty = position.qty + fill.qty
        avg = (position.qty * position.avg_entry_price + fill.qty * fill.price) / qty
        realized = position.realized_pnl
    else:
        if fill.qty > position.qty:
            raise Oversell(f"{position.symbol}: sell {fill.qty} > position {position.qty}")
        qty = position.qty - fill.qty
        realized = position.realized_pnl + (fill.price - position.avg_entry_price) * fill.qty
        avg = position.avg_entry_price if qty else ZERO
    return msgspec.structs.replace(
        position, qty=qty, avg_entry_price=avg, realized_pnl=realized, fees=position.fees + fill.fee
    )


def apply_fills(position: Position, fills: Iterable[Fill], quote_asset: str, now_ms: int) -> Position:
    """The position after every fill in order, stamped ``updated_at=now_ms``."""
    for fill in fills:
        position = apply_fill(position, fill, quote_asset)
    return msgspec.structs.replace(position, updated_at=now_ms)


def cash_balance(starting_balance: Decimal, positions: Iterable[Position]) -> Decimal:
    """Quote cash left: start - cost of what is held + realized PnL - fees paid."""
    cash = starting_balance
    for p in positions:
        cash += p.realized_pnl - p.fees - p.qty * p.avg_entry_price
    return cash
