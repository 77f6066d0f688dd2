"""The collector's local order book: Binance's rules of ``algo_common.domain.book``, built for speed.

The same sequence rules and answers as :class:`algo_common.domain.book.OrderBook` (a property test
holds them equal), with a layout made for ~40 levels per diff at tens of thousands of diffs a second:

- Diffs arrive with their levels still as Binance's decimal strings (:class:`DepthDiff`), checked by
  :meth:`LevelStrings.check` as the book applies them. A price is known by one canonical spelling
  (Binance's: 8 decimals, ``"30000.12000000"``); another spelling of the same value (``"30000.12"``,
  ``"3000012E-2"``) is rewritten to it, so equal prices are equal strings. Its integer ticks of
  ``10**-PRICE_SCALE`` come from a table (each distinct string is parsed once: prices repeat).
  A quantity stays text. Quantities rarely repeat (most of a real recording's are new), so they
  are checked per diff, not remembered: one regex over all of a diff's quantities when they are
  in Binance's form (``"0.01200000"``), each one otherwise; zero is then spelled
  :data:`ZERO_QTY` and found by one string comparison. No ``Decimal`` and no float per level.
- Each side is a ``dict`` canonical price text -> quantity text plus a heap of ticks with lazy deletion
  for the best one. A level costs a zero comparison and one store (or pop); only a price not in
  the heap needs its ticks (one push; the heap holds each price once); the heap forgets a removed
  price when it reaches the top.
- ``Decimal`` exists only for what is published: the top of book and the periodic ``depth``
  documents.
"""

from __future__ import annotations

import heapq
import re
from decimal import Context, Decimal, Inexact, InvalidOperation
from operator import itemgetter

import msgspec

from algo_common.domain.book import BookGap, CrossedBook
from algo_common.domain.models import BookDelta, BookSnapshot, Levels
from algo_common.errors import BadMessage

__all__ = ["BookGap", "CrossedBook", "DepthDiff", "LevelBook", "LevelStrings", "TextLevels"]

PRICE_SCALE = 18
"""Ticks per unit price are ``10**PRICE_SCALE``: exact for any price with at most 18 decimals (Binance: 8)."""
PRICE_LIMIT = 10**20
"""Prices at or above this are refused as bad input (a BSON Decimal128 holds 34 digits)."""
_BINANCE_UNIT = 10 ** (PRICE_SCALE - 8)  # ticks of Binance's 8-decimal price step
_EXACT = Context(prec=100, traps=[Inexact, InvalidOperation])  # scaling a price never rounds silently
_DIGITS = 34  # significant digits a BSON Decimal128 holds
# A non-negative decimal without exponent or sign, of at most 34 digits (a quantity).
_PLAIN_QTY = re.compile(r"(?:[0-9]{1,20}(?:\.[0-9]{0,14})?|\.[0-9]{1,14})")
# A number as Binance writes prices and quantities: 8 decimals, no leading zero (so zero is
# "0.00000000"), at most 20 + 8 digits (in bounds). For a price it is the canonical spelling.
_BINANCE_DECIMAL = r"(?:0|[1-9][0-9]{0,19})\.[0-9]{8}"
_BINANCE_PRICE = re.compile(_BINANCE_DECIMAL)
_BINANCE_QTYS = re.compile(rf"(?:{_BINANCE_DECIMAL}\|)*{_BINANCE_DECIMAL}")  # "|"-joined quantities
ZERO_QTY = "0.00000000"
"""The one spelling of a zero quantity in checked levels (Binance's): a book finds zero by ``==``."""
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")  # the same without the length bounds (prices)
_PRICE, _QUANTITY = itemgetter(0), itemgetter(1)

TextLevels = list[tuple[str, str]]
"""Levels as Binance sends them: ``[price, quantity]`` decimal strings; quantity 0 removes the level."""


class DepthDiff(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A diff-depth update covering venue update ids ``first_update_id..final_update_id``.

    The collector's form of :class:`algo_common.domain.models.BookDelta`: levels stay the venue's text;
    the book checks them (:meth:`LevelStrings.check`) as it applies them.
    """

    symbol: str
    first_update_id: int
    final_update_id: int
    bids: TextLevels
    asks: TextLevels
    ts_event: int
    ts_recv: int

    def to_book_delta(self) -> BookDelta:
        """The same update with ``Decimal`` levels (for the reference book and for tests)."""
        return BookDelta(
            symbol=self.symbol,
            first_update_id=self.first_update_id,
            final_update_id=self.final_update_id,
            bids=tuple((Decimal(p), Decimal(q)) for p, q in self.bids),
            asks=tuple((Decimal(p), Decimal(q)) for p, q in self.asks),
            ts_event=self.ts_event,
            ts_recv=self.ts_recv,
        )


def canonical_price(ticks: int) -> str:
    """The one spelling of a price: Binance's 8 decimals when exact, else the fewest decimals."""
    whole, fraction = divmod(ticks, 10**PRICE_SCALE)
    if fraction % _BINANCE_UNIT == 0:
        return f"{whole}.{fraction // _BINANCE_UNIT:08d}"
    return f"{whole}.{fraction:0{PRICE_SCALE}d}".rstrip("0")


def is_zero(qty: str) -> bool:
    """Zero quantity, for a plain decimal (as :func:`_plain` writes them)."""
    return not qty.strip("0.")


def binance_quantities(bids: TextLevels, asks: TextLevels) -> bool:
    """Every quantity of both sides is in Binance's form (so valid, and zero only as :data:`ZERO_QTY`)."""
    return _BINANCE_QTYS.fullmatch("|".join([*map(_QUANTITY, bids), *map(_QUANTITY, asks)])) is not None


class LevelStrings:
    """Checks level strings; keeps canonical price text -> ticks, parsed once per distinct string.

    Prices: finite, > 0, < ``PRICE_LIMIT``, at most ``PRICE_SCALE`` decimals and 34 digits; spelled
    canonically (:func:`canonical_price`) on the way out. Quantities: finite, >= 0, at most 20 digits
    before the point and 14 after (trailing zeros aside); another spelling than a plain decimal
    (``1E-8``, ``+1``) is rewritten as one, and every zero as :data:`ZERO_QTY`. Published values must
    fit a BSON Decimal128 (34 digits), hence the bounds. Only valid prices enter the tables, so a bad
    frame cannot corrupt them; they are emptied when they reach ``limit`` entries (prices drift over
    months). A canonical spelling depends on the value alone, so books keyed by it stay right when
    the tables start over.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._limit = limit
        self.ticks: dict[str, int] = {}  # canonical price text -> ticks
        self._price_text: set[str] = set()  # the keys of ``ticks``, as a set for one-call subset checks
        self._alias: dict[str, str] = {}  # another valid spelling -> the canonical one
        self.texts: dict[int, str] = {}  # ticks -> canonical text (the inverse of ``ticks``)

    def check(self, levels: TextLevels) -> TextLevels:
        """``levels`` with canonical prices and plain quantities; :class:`BadMessage` for a bad level."""
        return self.check_sides(levels, [])[0]

    def check_sides(self, bids: TextLevels, asks: TextLevels) -> tuple[TextLevels, TextLevels]:
        """Both sides of a diff checked (as :meth:`check`); the tables start over only before both."""
        if binance_quantities(bids, asks):
            return self.canonical_prices(bids, asks)
        return self.check_other_sides(bids, asks)

    def check_other_sides(self, bids: TextLevels, asks: TextLevels) -> tuple[TextLevels, TextLevels]:
        """:meth:`check_sides` of a diff known to have a quantity not in Binance's form (checked one by one)."""
        bids, asks = self.canonical_prices(bids, asks)
        return [(p, _checked_qty(q)) for p, q in bids], [(p, _checked_qty(q)) for p, q in asks]

    def canonical_prices(self, bids: TextLevels, asks: TextLevels) -> tuple[TextLevels, TextLevels]:
        """Both sides with every price checked, learned and canonical; quantities as they were."""
        if len(self.ticks) + len(self._alias) + len(bids) + len(asks) > self._limit:
            self.clear()
        return self._prices(bids), self._prices(asks)

    def _prices(self, levels: TextLevels) -> TextLevels:
        if self._price_text.issuperset(map(_PRICE, levels)):
            return levels
        for price in map(_PRICE, levels):
            if price not in self.ticks and price not in self._alias:
                self._learn_price(price)
        if self._alias.keys().isdisjoint(map(_PRICE, levels)):
            return levels
        alias = self._alias
        return [(alias.get(price, price), qty) for price, qty in levels]

    def clear(self) -> None:
        self.ticks.clear()
        self._price_text.clear()
        self._alias.clear()
        self.texts.clear()

    @staticmethod
    def price(ticks: int) -> Decimal:
        """The published ``Decimal`` of a price (its canonical spelling)."""
        return Decimal(canonical_price(ticks))

    def ticks_for(self, text: str) -> int:
        """Ticks of a canonical price text (read again when the tables forgot it)."""
        ticks = self.ticks.get(text)
        if ticks is None:
            ticks = _plain_ticks(text)[0]
            assert ticks is not None, text  # a canonical text is always a plain decimal in bounds
        return ticks

    def ticks_of(self, price: Decimal) -> int | None:
        """Ticks of a ``Decimal`` price; None when it is not a finite multiple of a tick below the limit."""
        if not price.is_finite() or abs(price) >= PRICE_LIMIT:
            return None
        try:
            scaled = price.scaleb(PRICE_SCALE, _EXACT)
        except (Inexact, InvalidOperation):
            return None
        ticks = int(scaled)
        return ticks if ticks == scaled else None

    def add_decimal_levels(self, levels: Levels) -> list[tuple[str, str]]:
        """``Decimal`` levels (a REST snapshot) as canonical text levels; :class:`BadMessage` on a bad one."""
        out = []
        for price, qty in levels:
            ticks = self.ticks_of(price)
            if ticks is None or ticks <= 0 or len(price.as_tuple().digits) > _DIGITS:
                raise BadMessage(f"bad book level [{price}, {qty}]")
            text = canonical_price(ticks)
            self._learn_canonical(text, ticks)
            out.append((text, _plain(qty)))
        return out

    def _learn_price(self, text: str) -> None:
        if _BINANCE_PRICE.fullmatch(text):  # Binance's spelling is the canonical one: ticks from the digits
            ticks = int(text.replace(".", "")) * _BINANCE_UNIT
            if ticks:
                self._learn_canonical(text, ticks)
                return
        if _PLAIN.fullmatch(text):  # another plain spelling: no Decimal
            ticks, digits = _plain_ticks(text)
        else:
            value = _decimal(text)
            ticks = None if value is None else self.ticks_of(value)
            digits = 0 if value is None else len(value.as_tuple().digits)
        if ticks is None or not 0 < ticks < PRICE_LIMIT * 10**PRICE_SCALE or digits > _DIGITS:
            raise BadMessage(f"bad book price {text[:40]!r}")
        canonical = canonical_price(ticks)
        self._learn_canonical(canonical, ticks)
        if text != canonical:
            self._alias[text] = canonical

    def _learn_canonical(self, text: str, ticks: int) -> None:
        if text not in self.ticks:
            self.ticks[text] = ticks
            self.texts[ticks] = text
            self._price_text.add(text)


def _plain_ticks(text: str) -> tuple[int | None, int]:
    """Ticks and digit count of a plain decimal string (``_PLAIN``), without building a ``Decimal``."""
    whole, _, fraction = text.partition(".")
    digits = len((whole + fraction).lstrip("0")) or 1
    if len(fraction) > PRICE_SCALE:
        fraction = fraction.rstrip("0")
        if len(fraction) > PRICE_SCALE:
            return None, digits
    return int(whole + fraction.ljust(PRICE_SCALE, "0")), digits


def _checked_qty(text: str) -> str:
    """A quantity as a bounded plain decimal, zero as :data:`ZERO_QTY`; :class:`BadMessage` when invalid."""
    qty = _plain_qty(text)
    return ZERO_QTY if is_zero(qty) else qty


def _plain_qty(text: str) -> str:
    """A quantity spelled as a bounded plain decimal; :class:`BadMessage` when it is not a valid quantity."""
    if _PLAIN_QTY.fullmatch(text):
        return text
    value = _decimal(text)
    if value is None:
        raise BadMessage(f"bad book quantity {text[:40]!r}")
    return _plain(value)


def _plain(qty: Decimal) -> str:
    """A valid quantity as a bounded plain decimal string; :class:`BadMessage` when it is not one."""
    if not qty.is_finite() or qty < 0 or not -40 < qty.adjusted() < 40:  # bounds what format() writes
        raise BadMessage(f"bad book quantity {qty}")
    for value in (abs(qty), abs(qty).normalize()):  # abs: -0 is a valid zero, written "0"
        text = format(value, "f")
        if _PLAIN_QTY.fullmatch(text):
            return text
    raise BadMessage(f"bad book quantity {qty}")


def _decimal(text: str) -> Decimal | None:
    if len(text) > 64:  # no venue number is this long; Decimal() of a huge string is slow
        return None
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


class _Side:
    """One side; ``sign`` is -1 for bids (heapq is a min-heap, the best bid is the highest price)."""

    __slots__ = ("heap", "heaped", "levels", "sign", "strings")

    def __init__(self, sign: int, levels: list[tuple[str, str]], strings: LevelStrings) -> None:
        self.sign, self.strings = sign, strings
        self.levels: dict[str, str] = {}  # canonical price text -> quantity as a plain decimal string
        for price, qty in levels:
            if is_zero(qty):
                self.levels.pop(price, None)
            else:
                self.levels[price] = qty
        self.heap: list[int] = []  # sign * ticks, each price once; may hold removed prices
        self.heaped: set[str] = set()  # the prices in ``heap``: a price removed and set again is not pushed twice
        self.compact()

    def best(self) -> tuple[int, str] | None:
        """Ticks and text of the best price, dropping removed prices from the top of the heap."""
        if len(self.heap) > 2 * len(self.levels) + 64:
            self.compact()
        heap, levels, sign, texts = self.heap, self.levels, self.sign, self.strings.texts
        while heap:
            ticks = sign * heap[0]
            text = texts.get(ticks) or canonical_price(ticks)
            if text in levels:
                return ticks, text
            heapq.heappop(heap)
            self.heaped.discard(text)
        return None

    def compact(self) -> None:
        """Rebuild the heap without the removed prices (when they make up most of it)."""
        ticks_for, sign = self.strings.ticks_for, self.sign
        self.heap = [sign * ticks_for(text) for text in self.levels]
        heapq.heapify(self.heap)
        self.heaped = set(self.levels)

    def top(self, depth: int | None) -> list[str]:
        count = len(self.levels) if depth is None else depth
        pick = heapq.nsmallest if self.sign > 0 else heapq.nlargest
        return pick(count, self.levels, key=self.strings.ticks_for)


class LevelBook:
    """Price levels of one symbol, valid as of venue update id :attr:`update_id`.

    :attr:`bid` / :attr:`ask` are the best prices in ticks after the last change (None: side empty).
    """

    def __init__(self, snapshot: BookSnapshot, strings: LevelStrings | None = None) -> None:
        self.symbol = snapshot.symbol
        self.update_id = snapshot.last_update_id
        self.strings = strings or LevelStrings()
        self._bids = _Side(-1, self.strings.add_decimal_levels(snapshot.bids), self.strings)
        self._asks = _Side(1, self.strings.add_decimal_levels(snapshot.asks), self.strings)
        self.bid: int | None = None
        self.ask: int | None = None
        self._bid_text = self._ask_text = ""
        self._best(bids=True, asks=True)

    def apply(self, diff: DepthDiff) -> bool:
        """Apply one diff; False when it is stale. Raises :class:`BookGap` / :class:`CrossedBook`.

        Levels are checked as they are applied. Quantities in Binance's form pass one regex
        (:func:`binance_quantities`); any other diff is checked whole first
        (:meth:`LevelStrings.check_other_sides`). A price these tables do not know (never seen, or forgotten
        at their limit) makes the diff's prices checked (:meth:`LevelStrings.canonical_prices`) and
        the diff applied again from its start (quantities are absolute, so that is idempotent). A
        bad level raises :class:`BadMessage` and may leave the book half updated: the caller
        discards the book (a dropped diff would leave a hole in the update ids anyway).
        """
        if diff.final_update_id <= self.update_id:
            return False
        if diff.first_update_id > self.update_id + 1:
            raise BookGap(self.symbol, self.update_id, diff.first_update_id)
        bids, asks = diff.bids, diff.asks
        if not binance_quantities(bids, asks):
            bids, asks = self.strings.check_other_sides(bids, asks)
        try:
            self._set(bids, asks)
        except KeyError:  # a price the tables forgot (emptied at their limit) or never saw
            self._set(*self.strings.canonical_prices(bids, asks))
        self.update_id = diff.final_update_id
        self._best(bool(diff.bids), bool(diff.asks))
        if self.bid is not None and self.ask is not None and self.bid >= self.ask:
            raise CrossedBook(
                f"{self.symbol}: crossed at update {self.update_id}: "
                f"{self.strings.price(self.bid)} >= {self.strings.price(self.ask)}"
            )
        return True

    def _best(self, bids: bool, asks: bool) -> None:
        """Re-read the best price of the sides a diff touched."""
        if bids:
            self.bid, self._bid_text = self._bids.best() or (None, "")
        if asks:
            self.ask, self._ask_text = self._asks.best() or (None, "")

    def _set(self, bids: TextLevels, asks: TextLevels) -> None:
        ticks_of, zero, push = self.strings.ticks, ZERO_QTY, heapq.heappush
        side, heap, heaped = self._bids.levels, self._bids.heap, self._bids.heaped
        for price, qty in bids:  # the hot path: inline, one loop per side
            if qty != zero:
                if price not in side and price not in heaped:
                    push(heap, -ticks_of[price])
                    heaped.add(price)
                side[price] = qty
            elif price in side:
                del side[price]
            elif price not in ticks_of:  # a removal in a spelling not checked (maybe of a held price)
                raise KeyError(price)
        side, heap, heaped = self._asks.levels, self._asks.heap, self._asks.heaped
        for price, qty in asks:
            if qty != zero:
                if price not in side and price not in heaped:
                    push(heap, ticks_of[price])
                    heaped.add(price)
                side[price] = qty
            elif price in side:
                del side[price]
            elif price not in ticks_of:
                raise KeyError(price)

    def bid_qty(self) -> str:
        """Quantity text at the best bid (call only when :attr:`bid` is not None)."""
        return self._bids.levels[self._bid_text]

    def ask_qty(self) -> str:
        """Quantity text at the best ask (call only when :attr:`ask` is not None)."""
        return self._asks.levels[self._ask_text]

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        return None if self.bid is None else (Decimal(self._bid_text), Decimal(self.bid_qty()))

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        return None if self.ask is None else (Decimal(self._ask_text), Decimal(self.ask_qty()))

    def bids(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Bid levels, best (highest) first."""
        return self._levels(self._bids, depth)

    def asks(self, depth: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Ask levels, best (lowest) first."""
        return self._levels(self._asks, depth)

    @property
    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bids.levels), len(self._asks.levels)

    def _levels(self, side: _Side, depth: int | None) -> list[tuple[Decimal, Decimal]]:
        levels = side.levels
        return [(Decimal(text), Decimal(levels[text])) for text in side.top(depth)]
