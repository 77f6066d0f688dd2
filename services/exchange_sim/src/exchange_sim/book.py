"""The simulator's true order book and the diffs that describe its changes.

Clients rebuild this book from ``GET /api/v3/depth`` plus the ``depthUpdate`` diffs, so every
change is made here, numbered with update ids, and reported exactly once (or deliberately hidden
to simulate a sequence gap). Levels sit around the last price: one tight level a tick away from
it and deeper levels on a fixed grid (~0.01 % of the start price), so a moving price removes some
levels (quantity 0) and adds others.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sortedcontainers import SortedDict

Level = tuple[Decimal, Decimal]  # (price, quantity); quantity 0 removes the level

_GRID_FRACTION = Decimal("0.0001")
_REQUOTE_PROBABILITY = 0.2


@dataclass(frozen=True, slots=True)
class BookDiff:
    """Changes with update ids ``first_update_id..final_update_id`` (Binance ``U``..``u``)."""

    first_update_id: int
    final_update_id: int
    bids: list[Level]  # best (highest) first
    asks: list[Level]  # best (lowest) first


class SimBook:
    """Bids and asks of one symbol, valid as of update id :attr:`last_update_id`."""

    def __init__(
        self,
        *,
        tick_size: Decimal,
        step_size: Decimal,
        price: Decimal,
        levels_per_side: int,
        first_update_id: int,
        rng: random.Random,
    ) -> None:
        if levels_per_side < 1:
            raise ValueError("a book needs at least one level per side")
        self.tick_size = tick_size
        self.step_size = step_size
        self.levels_per_side = levels_per_side
        self.last_update_id = first_update_id
        self._rng = rng
        self._bids: SortedDict[Decimal, Decimal] = SortedDict()
        self._asks: SortedDict[Decimal, Decimal] = SortedDict()
        notional_per_step = float(price * step_size)
        self._min_steps = max(1, math.ceil(10 / notional_per_step))
        self._max_steps = max(self._min_steps + 1, int(50_000 / notional_per_step))
        self._gap = max(tick_size, _to_grid(price * _GRID_FRACTION, tick_size, ROUND_FLOOR))
        self.requote(price)

    def requote(self, price: Decimal) -> BookDiff:
        """Move the book around ``price``; return the diff, numbered after :attr:`last_update_id`."""
        target_bids, target_asks = self._target_levels(price)
        bid_changes = self._requote_side(self._bids, target_bids, tight=price - self.tick_size)
        ask_changes = self._requote_side(self._asks, target_asks, tight=price + self.tick_size)
        bid_changes.sort(reverse=True)
        ask_changes.sort()
        first = self.last_update_id + 1
        self.last_update_id += len(bid_changes) + len(ask_changes)
        return BookDiff(first, self.last_update_id, bid_changes, ask_changes)

    def hide_changes(self, count: int) -> None:
        """Change ``count`` levels without reporting them: the next diff's ``U`` jumps past them."""
        for _ in range(count):
            side = self._bids if self._rng.random() < 0.5 and self._bids else self._asks
            if side:
                price = side.keys()[self._rng.randrange(len(side))]
                side[price] = self.random_qty()
            self.last_update_id += 1

    def random_qty(self) -> Decimal:
        """A resting quantity worth roughly 10 to 50,000 quote units, on the step-size grid."""
        return self.step_size * self._rng.randint(self._min_steps, self._max_steps)

    def best_bid(self) -> Level | None:
        return self._bids.peekitem(-1) if self._bids else None

    def best_ask(self) -> Level | None:
        return self._asks.peekitem(0) if self._asks else None

    def bids(self, limit: int | None = None) -> list[Level]:
        """Bid levels, best (highest) first."""
        keys = self._bids.keys()
        count = len(keys) if limit is None else min(limit, len(keys))
        return [(price, self._bids[price]) for price in reversed(keys[len(keys) - count :])]

    def asks(self, limit: int | None = None) -> list[Level]:
        """Ask levels, best (lowest) first."""
        keys = self._asks.keys()
        count = len(keys) if limit is None else min(limit, len(keys))
        return [(price, self._asks[price]) for price in keys[:count]]

    def _target_levels(self, price: Decimal) -> tuple[set[Decimal], set[Decimal]]:
        tick, gap = self.tick_size, self._gap
        tight_bid, tight_ask = price - tick, price + tick
        grid_bid = _to_grid(tight_bid, gap, ROUND_FLOOR)
        if grid_bid == tight_bid:
            grid_bid -= gap
        grid_ask = _to_grid(tight_ask, gap, ROUND_CEILING)
        if grid_ask == tight_ask:
            grid_ask += gap
        deeper = range(self.levels_per_side - 1)
        bids = {tight_bid, *(grid_bid - i * gap for i in deeper)}
        asks = {tight_ask, *(grid_ask + i * gap for i in deeper)}
        return {p for p in bids if p > 0}, asks

    def _requote_side(self, side: SortedDict[Decimal, Decimal], targets: set[Decimal], tight: Decimal) -> list[Level]:
        changes: list[Level] = []
        for price in [p for p in side if p not in targets]:
            del side[price]
            changes.append((price, Decimal(0)))
        for price in sorted(targets):
            if price not in side or price == tight or self._rng.random() < _REQUOTE_PROBABILITY:
                side[price] = self.random_qty()
                changes.append((price, side[price]))
        return changes


def _to_grid(value: Decimal, grid: Decimal, rounding: str) -> Decimal:
    return (value / grid).to_integral_value(rounding=rounding) * grid
