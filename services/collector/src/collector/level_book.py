"""The collector's local order book: Binance's rules of ``algo_common.domain.book``, built for speed.

The same sequence rules and answers as :class:`algo_common.domain.book.OrderBook` (a property test
holds them equal), with a different layout: each side is a plain ``dict`` price -> quantity and a
heap of prices with lazy deletion for the best one. Most diff levels change the quantity of an
existing price (one dict store); a new price is one heap push; a removal is one dict pop, the heap
forgets the price when it reaches the top. A sorted container pays a sorted-list insert or removal
with Decimal comparisons on every new or removed level, which made it most of the collector's CPU.
Sorted levels are needed only for the periodic ``depth`` documents (``heapq.nsmallest``).
"""

from __future__ import annotations

import heapq
from decimal import Decimal

from algo_common.domain.book import BookGap, CrossedBook
from algo_common.domain.models import BookDelta, BookSnapshot, Levels

__all__ = ["BookGap", "CrossedBook", "LevelBook"]


class _Side:
    """One side; ``sign`` is -1 for bids (heapq is a min-heap, the best bid is the highest price)."""

    __slots__ = ("_heap", "_sign", "levels")

    def __init__(self, sign: int) -> None:
        self._sign = sign
        self.levels: dict[Decimal, Decimal] = {}
        self._heap: list[Decimal] = []  # sign * price; may hold removed prices

    def set(self, levels: Levels) -> None:
        book, heap, sign = self.levels, self._heap, self._sign
        for price, qty in levels:
            if qty:
                if price not in book:
                    heapq.heappush(heap, price if sign > 0 else -price)
                book[price] = qty
            else:
                book.pop(price, None)
        if len(heap) > 2 * len(book) + 64:  # too many removed prices left behind: rebuild
            self._heap = [p if sign > 0 else -p for p in book]
            heapq.heapify(self._heap)

    def best(self) -> tuple[Decimal, Decimal] | None:
        heap, book = self._heap, self.levels
        while heap:
            price = heap[0] if self._sign > 0 else -heap[0]
            qty = book.get(price)
            if qty is not None:
                return price, qty
            heapq.heappop(heap)
        return None

    def top(self, depth: int | None) -> list[tuple[Decimal, Decimal]]:
        count = len(self.levels) if depth is None else depth
        prices = heapq.nsmallest(count, self.levels) if self._sign > 0 else heapq.nlargest(count, self.levels)
        return [(price, self.levels[price]) for price in prices]


class LevelBook:
    """Price levels of one symbol, valid as of venue update id :attr:`update_id`."""

    def __init__(self, snapshot: BookSnapshot) -> None:
        self.symbol = snapshot.symbol
        self.update_id = snapshot.last_update_id
        self._bids = _Side(-1)
        self._asks = _Side(1)
        self._bids.set(snapshot.bids)
        self._asks.set(snapshot.asks)

    def apply(self, delta: BookDelta) -> bool:
        """Apply one diff; False when it is stale. Raises :class:`BookGap` / :class:`CrossedBook`."""
        if delta.final_update_id <= self.update_id:
            return False
        if delta.first_update_id > self.update_id + 1:
            raise BookGap(self.symbol, self.update_id, delta.first_update_id)
        self._bids.set(delta.bids)
        self._asks.set(delta.asks)
        self.update_id = delta.final_update_id
        bid, ask = self._bids.best(), self._asks.best()
        if bid is not None and ask is not None and bid[0] >= ask[0]:
            raise CrossedBook(f"{self.symbol}: crossed at update {self.update_id}: {bid[0]} >= {ask[0]}")
        return True

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        return self._bids.best()

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        return self._asks.best()

    def bids(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Bid levels, best (highest) first."""
        return self._bids.top(depth)

    def asks(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Ask levels, best (lowest) first."""
        return self._asks.top(depth)

    @property
    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bids.levels), len(self._asks.levels)
