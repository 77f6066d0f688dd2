"""How an order takes liquidity from the simulated book: pure functions over price levels.

The simulated book is the market's true book; our orders walk its levels without depleting
them (the simulated market re-quotes every step anyway), so one order can fill at several prices
and a thin book leaves a MARKET order partly unfilled.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

Level = tuple[Decimal, Decimal]  # (price, quantity)
MIN_STEP = Decimal("1E-8")


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a multiple of ``step`` (8 decimals when there is no step)."""
    grid = step or MIN_STEP
    return (value / grid).to_integral_value(rounding=ROUND_DOWN) * grid


def crosses(side: str, level_price: Decimal, limit: Decimal | None) -> bool:
    """Whether a level is at or better than the limit for an order of ``side`` (no limit: always)."""
    if limit is None:
        return True
    return level_price <= limit if side == "BUY" else level_price >= limit


def walk(
    levels: list[Level],
    side: str,
    *,
    qty: Decimal | None = None,
    quote_qty: Decimal | None = None,
    limit: Decimal | None = None,
    step: Decimal = MIN_STEP,
) -> tuple[list[Level], bool]:
    """Fills taken from ``levels`` (best first) for ``qty`` base or ``quote_qty`` quote.

    Returns the fills and whether the order is complete: all ``qty`` taken, or for a quote
    quantity, what is left cannot buy one more ``step`` at the level where the walk stopped.
    """
    if (qty is None) == (quote_qty is None):
        raise ValueError("give exactly one of qty and quote_qty")
    fills: list[Level] = []
    left_qty, left_quote = qty, quote_qty
    for price, available in levels:
        if not crosses(side, price, limit):
            return fills, False
        if left_qty is not None:
            take = min(available, left_qty)
            left_qty -= take
        else:
            assert left_quote is not None
            take = min(available, floor_to_step(left_quote / price, step))
            left_quote -= take * price
        if take > 0:
            fills.append((price, take))
        if left_qty == 0 or (left_quote is not None and take < available):
            return fills, True
    return fills, False
