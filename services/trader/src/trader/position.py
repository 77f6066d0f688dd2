"""Position accounting per venue and symbol. Pure: Decimal only, no float.

The rule (docs/architecture.md, "Position accounting"):

- ``qty`` is what the account really holds: a commission charged in the base asset (Binance's
  default for a BUY) is taken out of the quantity received, so selling the whole position never
  asks for more than the account has.
- ``cost_basis`` is what was paid for what is held, in the quote asset: a BUY adds
  ``qty * price``, spread over the quantity received, so ``avg_entry_price`` (= cost basis /
  ``qty``) rises by a base commission instead of the commission being a fee: it reaches the P&L
  once, when the coins are sold. A sell realizes its proceeds minus its share of the cost basis
  (``qty / held``; all of it when the position is closed) and leaves the average unchanged.
- ``fees`` are the commissions paid in the quote asset (the paper venue's, Binance's SELL
  default); they are kept apart from the P&L and subtracted once, by whoever reads it.
- ``commissions`` records every commission not paid in the quote asset, by asset: the base
  asset's (already in ``qty`` and the cost basis, kept for the audit) and a third asset's (BNB),
  which cannot be valued here and is left out of the quote P&L on purpose.

The cost basis is kept as a sum, not as a rounded average, so a closed position's realized P&L
is exactly what its sells brought in minus what its buys cost; only a partial sell's share of a
cost basis that does not divide evenly carries Decimal's 28 significant digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """Commissions paid in the quote asset."""
    cost_basis: Decimal | None = None
    """Quote paid for what is held; None in a document older than the field: ``qty * avg_entry_price``."""
    commissions: dict[str, Decimal] = msgspec.field(default_factory=dict)
    """Commissions paid in any other asset (base, BNB), by asset; not in ``fees``."""
    updated_at: int = 0
    version: int = 0

    @property
    def position_id(self) -> str:
        return position_id(self.venue, self.symbol)


def position_id(venue: str, symbol: str) -> str:
    return f"{venue}:{symbol}"


def base_asset(symbol: str, quote_asset: str) -> str:
    """``BTC`` of ``BTCUSDT``: the trader only trades symbols quoted in its quote asset."""
    if not symbol.endswith(quote_asset) or symbol == quote_asset:
        raise ValueError(f"{symbol} is not quoted in {quote_asset}")
    return symbol.removesuffix(quote_asset)


def cost_of(position: Position) -> Decimal:
    """The position's cost basis (quote paid for what it holds)."""
    if position.cost_basis is not None:
        return position.cost_basis
    return position.qty * position.avg_entry_price


def apply_fill(position: Position, fill: Fill, quote_asset: str) -> Position:
    """The position after one fill; raises :class:`Oversell` when a sell exceeds the holding."""
    base = base_asset(position.symbol, quote_asset)
    in_base = fill.fee if fill.fee_asset == base else ZERO
    fees = position.fees + (fill.fee if fill.fee_asset == quote_asset else ZERO)
    commissions = _add_commission(position.commissions, fill, quote_asset)
    cost, realized, avg = cost_of(position), position.realized_pnl, position.avg_entry_price
    if fill.side is Side.BUY:
        qty = position.qty + fill.qty - in_base
        if qty <= ZERO:
            raise Oversell(f"{position.symbol}: commission {in_base} {base} leaves nothing of the buy")
        cost += fill.qty * fill.price
        avg = cost / qty
    else:
        if fill.qty + in_base > position.qty:
            raise Oversell(f"{position.symbol}: sell {fill.qty} (+{in_base} commission) > position {position.qty}")
        qty = position.qty - fill.qty - in_base
        released = cost if not qty else cost * fill.qty / position.qty
        realized += fill.qty * fill.price - released
        cost -= released
        if not qty:
            avg = ZERO
        elif in_base:  # coins given away as commission: the rest carry their cost
            avg = cost / qty
    return msgspec.structs.replace(
        position,
        qty=qty,
        avg_entry_price=avg,
        cost_basis=cost,
        realized_pnl=realized,
        fees=fees,
        commissions=commissions,
    )


def _add_commission(held: Mapping[str, Decimal], fill: Fill, quote_asset: str) -> dict[str, Decimal]:
    if fill.fee_asset == quote_asset or not fill.fee:
        return dict(held)
    return {**held, fill.fee_asset: held.get(fill.fee_asset, ZERO) + fill.fee}


def apply_fills(position: Position, fills: Iterable[Fill], quote_asset: str, now_ms: int) -> Position:
    """The position after every fill in order, stamped ``updated_at=now_ms``."""
    for fill in fills:
        position = apply_fill(position, fill, quote_asset)
    return msgspec.structs.replace(position, updated_at=now_ms)


def cash_balance(starting_balance: Decimal, positions: Iterable[Position]) -> Decimal:
    """Quote cash left: start - cost of what is held + realized PnL - fees paid (paper venue)."""
    cash = starting_balance
    for p in positions:
        cash += p.realized_pnl - p.fees - cost_of(p)
    return cash
