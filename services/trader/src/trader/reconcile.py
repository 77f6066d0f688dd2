"""Keep MongoDB equal to Binance: user data stream updates, reconciliation, start-up repair.

Every path writes through ``Ledger.apply_order_update`` (fills deduplicated by trade id, status
forward only, one transaction), so the REST answer, the stream and a reconciliation may report
the same execution in any order and it is recorded once.

- Each ``executionReport`` is applied as it arrives; when it shows more filled than MongoDB
  holds (an earlier event was missed), the order is re-read from REST at once.
- Reconciliation (at start-up before any signal is taken, after every stream (re)connect, and
  every ``interval_s``): orders MongoDB holds as SUBMITTING / NEW / PARTIALLY_FILLED, or created
  within ``lookback_ms``, are compared with ``GET /api/v3/openOrders`` and ``GET /api/v3/order``
  + ``myTrades`` and repaired. A SUBMITTING order Binance never received is left to the executor,
  which sends it when its signal is redelivered (it is still unacknowledged).
- Every round first loads the account's balances (``GET /api/v3/account``) into
  :class:`~trader.venues.binance.balances.AccountBalances` (the pre-trade balance check reads
  them); at start-up they are also logged next to the positions MongoDB holds, which must equal
  the base balances the trades brought (:mod:`trader.position`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import msgspec
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.binance.trading_schemas import BinanceAccount, BinanceExecutionReport, BinanceOrder
from algo_common.clock import now_ms
from algo_common.collections import ORDERS
from algo_common.domain.models import OrderStatus
from algo_common.errors import AlgoTradeError, TransientError
from algo_common.logging import get_logger
from algo_common.mongo import Document
from trader.ledger import AppliedUpdate, Ledger, UnknownOrder
from trader.metrics import TraderMetrics
from trader.orders import FINAL_STATUSES
from trader.position import Oversell
from trader.venues.base import OrderResult
from trader.venues.binance.balances import AccountBalances
from trader.venues.binance.mapping import from_execution_report
from trader.venues.binance.metrics import BinanceMetrics
from trader.venues.binance.venue import ACCOUNT_PATH, BinanceVenue

log = get_logger(__name__)
OPEN_STATUSES = [str(s) for s in (OrderStatus.SUBMITTING, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)]
OPEN_ORDERS_PATH = "/api/v3/openOrders"
_open_orders_decoder = msgspec.json.Decoder(list[BinanceOrder])
_account_decoder = msgspec.json.Decoder(BinanceAccount)


class Reconciler:
    """Applies Binance's view of this trader's orders to the ledger."""

    def __init__(
        self,
        venue: BinanceVenue,
        ledger: Ledger,
        db: AsyncDatabase[Document],
        metrics: BinanceMetrics,
        trader_metrics: TraderMetrics,
        *,
        interval_s: float,
        lookback_ms: int,
        balances: AccountBalances,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._venue = venue
        self._ledger = ledger
        self._db = db
        self._metrics = metrics
        self._trader_metrics = trader_metrics
        self._interval_s = interval_s
        self._lookback_ms = lookback_ms
        self.balances = balances
        self._clock = clock
        self._lock = asyncio.Lock()
        self.rounds = 0
        """Reconciliation rounds completed (start-up, periodic, after a reconnect)."""

    async def startup(self) -> None:
        """Before the first signal: repair stored orders, then compare balances."""
        repaired = await self.reconcile("startup")
        await self.compare_balances()
        log.info("start-up reconciliation done", repaired=repaired)

    async def run_periodic(self) -> None:
        """Reconcile every ``interval_s`` until cancelled; a failed round is logged and retried next time."""
        while True:
            await asyncio.sleep(self._interval_s)
            await self.reconcile_quietly("periodic")

    async def reconcile_quietly(self, kind: str) -> None:
        try:
            await self.reconcile(kind)
        except AlgoTradeError as e:
            log.warning("reconciliation failed; will retry", kind=kind, error=str(e))
        except Exception as e:  # a MongoDB outage must not end the background task
            log.warning("reconciliation failed; will retry", kind=kind, error=f"{type(e).__name__}: {e}")

    async def reconcile(self, kind: str) -> int:
        """One round; returns how many orders were changed."""
        async with self._lock:
            try:
                await self.load_balances()
            except AlgoTradeError as e:  # the orders are still repaired; the balances stay as they are
                log.warning(
                    "account balances not loaded",
                    kind=kind,
                    error=str(e),
                    balances=self.balances.untrusted_reason() or "current",
                )
            orders = await self._candidates()
            open_at_venue = await self._open_orders({str(o["symbol"]) for o in orders})
            repaired = 0
            for order in orders:
                coid, symbol = str(order["_id"]), str(order["symbol"])
                venue_order = open_at_venue.get(coid)
                if venue_order is not None:
                    result: OrderResult | None = await self._venue.complete(venue_order)
                else:
                    result = await self._venue.query_order(symbol, coid)
                if result is None:
                    continue  # never reached Binance: the executor sends it on redelivery
                applied = await self._apply(result, kind)
                repaired += int(applied is not None and applied.changed)
            foreign = set(open_at_venue) - {str(o["_id"]) for o in orders}
            if foreign:
                log.warning("open Binance orders this trader does not track", client_order_ids=sorted(foreign))
            self.rounds += 1
            return repaired

    async def on_report(self, report: BinanceExecutionReport) -> None:
        """Apply one ``executionReport``; re-read the order when the stream evidently missed fills."""
        rules = await self._venue.info.rules(report.s)
        result = from_execution_report(report, rules)
        applied = await self._apply(result, None)
        if applied is None:
            return
        held = applied.order["filled_qty"] + sum((f.qty for f in applied.new_fills), Decimal(0))
        if report.z > held:
            log.warning(
                "user data stream missed fills; querying the order",
                client_order_id=result.client_order_id,
                stream_filled=str(report.z),
                stored_filled=str(held),
            )
            repaired = await self._venue.query_order(report.s, result.client_order_id)
            if repaired is not None:
                await self._apply(repaired, "stream_gap")

    async def load_balances(self) -> None:
        """The account's balances now (``omitZeroBalances``: an asset not listed is held at 0)."""
        token, requested_at = self.balances.snapshot_token(), self._clock()
        raw = await self._venue.client.signed("GET", ACCOUNT_PATH, [("omitZeroBalances", "true")])
        try:
            account = _account_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise TransientError(f"account answer undecodable: {e}") from e
        self.balances.load(account, token, requested_at)

    async def compare_balances(self) -> None:
        """Log each position next to the account's base balance (as loaded by the last round)."""
        for position in await self._ledger.positions():
            rules = self._venue.info.cached(position.symbol) or await self._venue.info.rules(position.symbol)
            held = self.balances.total(rules.base_asset)
            log.info(
                "balance check",
                symbol=position.symbol,
                position_qty=str(position.qty),
                exchange_balance=str(held),
                asset=rules.base_asset,
                difference=str(held - position.qty),
            )
        quote = self._ledger.quote_asset
        log.info("balance check", asset=quote, exchange_balance=str(self.balances.total(quote)))

    async def _candidates(self) -> list[Document]:
        since = self._clock() - self._lookback_ms
        query = {
            "venue": self._venue.name,
            "$or": [{"status": {"$in": OPEN_STATUSES}}, {"created_at": {"$gte": since}}],
        }
        return [doc async for doc in self._db[ORDERS].find(query, {"events": 0})]

    async def _open_orders(self, symbols: set[str]) -> dict[str, BinanceOrder]:
        found: dict[str, BinanceOrder] = {}
        for symbol in sorted(symbols):
            raw = await self._venue.client.signed("GET", OPEN_ORDERS_PATH, [("symbol", symbol)])
            found.update({o.clientOrderId: o for o in _open_orders_decoder.decode(raw)})
        return found

    async def _apply(self, result: OrderResult, kind: str | None) -> AppliedUpdate | None:
        try:
            applied = await self._ledger.apply_order_update(result, self._clock())
        except UnknownOrder:
            log.info("update for an order this trader did not place; ignored", client_order_id=result.client_order_id)
            return None
        except Oversell as e:
            log.error(
                "venue fill exceeds the stored position; not applied",
                client_order_id=result.client_order_id,
                error=str(e),
            )
            return None
        self._count(applied)
        if applied.changed and kind is not None:
            self._metrics.reconcile_repairs.add(1, {"kind": kind})
            log.warning(
                "order repaired by reconciliation",
                kind=kind,
                client_order_id=result.client_order_id,
                status=str(applied.status),
                new_fills=len(applied.new_fills),
            )
        return applied

    def _count(self, applied: AppliedUpdate) -> None:
        """Outcomes and fills recorded here count as those the executor records."""
        side = str(applied.order["side"])
        for fill in applied.new_fills:
            self._trader_metrics.fills.add(1, {"side": str(fill.side)})
        if applied.status is not applied.previous_status and applied.status in FINAL_STATUSES:
            self._trader_metrics.orders.add(1, {"status": str(applied.status), "side": side})
        if applied.position is not None:
            self._trader_metrics.observe_position(applied.position)
