"""Local order book kept in sync with Binance's diff-depth stream.

Follows Binance's documented procedure (spot API docs, "How to manage a local order book
correctly", revision of 2025-11-12): start from a REST snapshot with ``lastUpdateId``, drop diffs
with ``u <= lastUpdateId``, ignore stale diffs with ``u < book id``, and treat ``U > book id + 1``
as missed events (:class:`BookGap`). Quantities are absolute; quantity 0 removes the level.
"""

from __future__ import annotations

from decimal import Decimal

from sortedcontainers import SortedDict

from algo_common.domain.models import BookDelta, BookSnapshot, Levels


class BookGap(Exception):
    """Diff events were missed: the book must be rebuilt from a fresh snapshot."""

    def __init__(self, symbol: str, book_id: int, first_update_id: int) -> None:
        super().__init__(f"{symbol}: gap, book at update {book_id}, next diff starts at {first_update_id}")
        self.symbol = symbol
        self.book_id = book_id
        self.first_update_id = first_update_id


class CrossedBook(Exception):
    """Best bid >= best ask after an update: the local book is wrong and must be rebuilt."""


class OrderBook:
    """Price levels of one symbol, valid as of venue update id :attr:`update_id`."""

    def __init__(self, snapshot: BookSnapshot) -> None:
        self.symbol = snapshot.symbol
        self.update_id = snapshot.last_update_id
        self._bids: SortedDict[Decimal, Decimal] = SortedDict()
        self._asks: SortedDict[Decimal, Decimal] = SortedDict()
        _set_levels(self._bids, snapshot.bids)
        _set_levels(self._asks, snapshot.asks)

    def apply(self, delta: BookDelta) -> bool:
        """Apply one diff; return False when it is stale (already contained in the book).

        Raises :class:`BookGap` when events between the book and ``delta`` were missed and
        :class:`CrossedBook` when the result is crossed.
        """
        if delta.final_update_id <= self.update_id:
            return False
        if delta.first_update_id > self.update_id + 1:
            raise BookGap(self.symbol, self.update_id, delta.first_update_id)
        _set_levels(self._bids, delta.bids)
        _set_levels(self._asks, delta.asks)
        self.update_id = delta.final_update_id
        best_bid, best_ask = self.best_bid(), self.best_ask()
        if best_bid is not None and best_ask is not None and best_bid[0] >= best_ask[0]:
            raise CrossedBook(f"{self.symbol}: crossed at update {self.update_id}: {best_bid[0]} >= {best_ask[0]}")
        return True

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        return self._bids.peekitem(-1) if self._bids else None

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        return self._asks.peekitem(0) if self._asks else None

    def bids(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Bid levels, best (highest) first."""
        items = list(reversed(self._bids.items()))
        return items if depth is None else items[:depth]

    def asks(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Ask levels, best (lowest) first."""
        items = list(self._asks.items())
        return items if depth is None else items[:depth]

    @property
    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bids), len(self._asks)


def _set_levels(side: SortedDict[Decimal, Decimal], levels: Levels) -> None:
    for price, qty in levels:
        if qty == 0:
            side.pop(price, None)
        else:
            side[price] = qty
