"""Paper exchange: MARKET orders against the live book top, with a durable venue-side record.

Like a real exchange, the paper venue keeps its own state (in Redis, so it outlives any trader
process and is shared by every replica), and ``client_order_id`` is its idempotency key:

- ``paper:order:<client order id>``: the venue's answer (status and fills, JSON), written once.
  A second submit of the same id returns the stored answer and trades nothing; ``query``
  returns it, so a trader that died after the venue executed finds the execution instead of
  repeating it.
- ``paper:base:<SYMBOL>``: the base asset the account holds at the venue, in units of 1e-8
  (integers, so the Lua arithmetic is exact). A SELL for more than that is REJECTED
  ("insufficient balance"), as Binance does, so the venue never sells what it does not hold.

Both writes are one Lua script, which also answers a resubmitted id with its stored answer: an
order is either executed with its balance change or not at all, and only once. Prices and
fills come from :mod:`trader.venues.paper_fills`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import msgspec
import redis.asyncio as aioredis

from algo_common.clock import now_ms
from algo_common.domain.models import OrderStatus, Side
from algo_common.lua import LuaScript
from trader.book_top import BookTops
from trader.failpoints import Failpoint, trigger
from trader.venues.base import OrderRequest, OrderResult
from trader.venues.paper_fills import PaperTerms, execute

ORDER_KEY = "paper:order:{}"
BASE_KEY = "paper:base:{}"
ATOM = Decimal("0.00000001")
"""Smallest base quantity the paper venue accepts (Binance's 8 decimals)."""

_EXECUTE_ONCE = LuaScript("""
local stored = redis.call('GET', KEYS[1])
if stored then return stored end
local delta = tonumber(ARGV[3])
if delta < 0 and tonumber(redis.call('GET', KEYS[2]) or '0') + delta < 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[4])
  return ARGV[2]
end
if delta ~= 0 then redis.call('INCRBY', KEYS[2], ARGV[3]) end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
return ARGV[1]
""")

_encoder = msgspec.json.Encoder(decimal_format="string")
_decoder = msgspec.json.Decoder(OrderResult)


def base_atoms(qty: Decimal) -> int | None:
    """``qty`` in units of 1e-8; None when it has more decimals than that."""
    atoms = qty / ATOM
    return int(atoms) if atoms == atoms.to_integral_value() else None


class PaperVenue:
    """Simulated spot venue on Redis: idempotent by client order id, fills against the book top."""

    def __init__(
        self,
        redis: aioredis.Redis,
        terms: PaperTerms,
        books: BookTops,
        *,
        order_ttl_s: int = 30 * 86_400,
        failpoint: Failpoint = Failpoint.NONE,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._redis = redis
        self._terms = terms
        self._books = books
        self._ttl_s = order_ttl_s
        self._failpoint = failpoint
        self._clock = clock

    @property
    def name(self) -> str:
        return "paper"

    async def submit(self, order: OrderRequest) -> OrderResult:
        """Two round trips: the book top, then the script, which returns the stored answer instead
        of executing when the id was submitted before (so no GET is needed first)."""
        top = await self._books.latest(order.symbol) if self._terms.use_book else None
        result = execute(order, top, self._terms, self._clock())
        executed = sum((fill.qty for fill in result.fills), Decimal(0))
        atoms = base_atoms(executed)
        if atoms is None:
            result = _rejected(order, f"quantity {executed} has more than 8 decimals")
            atoms = 0
        refused = _rejected(order, "insufficient balance")
        reply = await _EXECUTE_ONCE.run(
            self._redis,
            2,
            ORDER_KEY.format(order.client_order_id),
            BASE_KEY.format(order.symbol),
            _encoder.encode(result),
            _encoder.encode(refused),
            -atoms if order.side is Side.SELL else atoms,
            self._ttl_s,
        )
        trigger(self._failpoint, Failpoint.AFTER_SEND)
        return _decoder.decode(reply)

    async def query(self, client_order_id: str) -> OrderResult | None:
        """The venue's record of the order; None when it never received it."""
        stored = await self._redis.get(ORDER_KEY.format(client_order_id))
        return None if stored is None else _decoder.decode(stored)

    async def base_balance(self, symbol: str) -> Decimal:
        """Base asset held at the venue for ``symbol`` (the venue's view of the position)."""
        raw = await self._redis.get(BASE_KEY.format(symbol))
        return Decimal(int(raw or 0)) * ATOM


def _rejected(order: OrderRequest, reason: str) -> OrderResult:
    return OrderResult(
        client_order_id=order.client_order_id,
        status=OrderStatus.REJECTED,
        reject_reason=reason,
        detail=f"paper: {reason}",
    )
