"""One signal -> one order, exactly once: risk -> intent -> venue -> outcome.

:meth:`Executor.handle` is idempotent. It looks at what the ledger already holds for the
signal's order and does only what is missing, so a redelivered signal, a restart after a crash
at any step, or two traders racing on the same signal all end in one order with one outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from algo_common.clock import now_ms
from algo_common.domain.models import OrderStatus, Side, Signal
from algo_common.errors import TransientError
from algo_common.logging import get_logger
from algo_common.mongo import Document
from trader.failpoints import Failpoint, trigger
from trader.ledger import Ledger
from trader.metrics import TraderMetrics
from trader.orders import intent_document, is_final, order_request, rejected_document
from trader.position import Oversell, Position
from trader.risk import Account, RejectReason, RiskLimits, check
from trader.venues.base import OrderResult, Venue

log = get_logger(__name__)


@dataclass(frozen=True)
class ExecutionConfig:
    limits: RiskLimits
    starting_balance: Decimal
    failpoint: Failpoint = Failpoint.NONE


class Executor:
    """Brings each signal's order to a final state in the ledger."""

    def __init__(
        self,
        ledger: Ledger,
        venue: Venue,
        config: ExecutionConfig,
        metrics: TraderMetrics,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._ledger = ledger
        self._venue = venue
        self._config = config
        self._metrics = metrics
        self._clock = clock

    async def handle(self, signal: Signal) -> None:
        """Returns once the signal's order is final and durable (safe to acknowledge)."""
        order = await self._ledger.get_order(signal.signal_id)
        resumed = order is not None
        if order is None:
            order, created = await self._open(signal)
            resumed = not created
        if is_final(order):
            if resumed:
                log.info("signal already handled", signal_id=signal.signal_id, status=order["status"])
            return
        await self._execute(signal, order, resumed)

    async def _open(self, signal: Signal) -> tuple[Document, bool]:
        """Store the risk decision: a rejection, or the intent. False when another trader was first."""
        now = self._clock()
        position = await self._ledger.position(signal.symbol)
        balance = await self._ledger.quote_balance(self._config.starting_balance)
        decision = check(signal, Account(position.qty, balance), self._config.limits, now)
        venue, quote = self._venue.name, self._config.limits.quote_asset
        if decision.reason is None:
            order = intent_document(signal, decision.quantity, venue, quote, now)
        else:
            order = rejected_document(signal, decision.reason, venue, quote, now)
        if not await self._ledger.insert_order(order):
            existing = await self._ledger.get_order(signal.signal_id)
            if existing is None:
                raise TransientError(f"order {signal.signal_id} reported as duplicate but not found")
            return existing, False
        if decision.reason is not None:
            self._count_rejection(signal, decision.reason, now)
        else:
            log.info("order intent recorded", signal_id=signal.signal_id, side=str(signal.side))
            trigger(self._config.failpoint, Failpoint.AFTER_INTENT)
        return order, True

    async def _execute(self, signal: Signal, order: Document, resumed: bool) -> None:
        """Venue call and outcome transaction of a SUBMITTING order.

        A resumed order (found SUBMITTING: the outcome of an earlier attempt was not recorded)
        is first looked up at the venue; a venue that never received it gets it again, under the
        same client order id. For the paper venue that is always the case (see venues/paper.py).
        """
        request = order_request(signal, order)
        result = await self._venue.query(request.client_order_id) if resumed else None
        if result is None:
            result = await self._venue.submit(request)
        detail = result.detail + ("; resumed after an interrupted attempt" if resumed else "")
        now = self._clock()
        try:
            position = await self._ledger.record_outcome(order, result, now, detail)
        except Oversell:
            await self._reject_submitting(signal, now)
            return
        if position is None:
            log.info("outcome already recorded by another attempt", signal_id=signal.signal_id)
            return
        self._count_outcome(signal, result, position, now)
        trigger(self._config.failpoint, Failpoint.AFTER_OUTCOME)

    async def _reject_submitting(self, signal: Signal, now: int) -> None:
        """The position no longer covers the sell (it changed after the risk check)."""
        if await self._ledger.reject_submitting(signal.signal_id, RejectReason.POSITION_CHANGED, now):
            self._count_rejection(signal, RejectReason.POSITION_CHANGED, now)

    def _count_rejection(self, signal: Signal, reason: RejectReason, now: int) -> None:
        log.warning("signal rejected", signal_id=signal.signal_id, symbol=signal.symbol, reason=str(reason))
        self._metrics.signals_rejected.add(1, {"reason": str(reason)})
        self._count_order(OrderStatus.REJECTED, signal.side, now - signal.ts_decision)

    def _count_outcome(self, signal: Signal, result: OrderResult, position: Position, now: int) -> None:
        log.info(
            "order outcome recorded",
            signal_id=signal.signal_id,
            status=str(result.status),
            position_qty=str(position.qty),
            realized_pnl=str(position.realized_pnl),
        )
        self._count_order(result.status, signal.side, now - signal.ts_decision)
        for fill in result.fills:
            self._metrics.fills.add(1, {"side": str(fill.side)})
        self._metrics.observe_position(position)

    def _count_order(self, status: OrderStatus, side: Side, latency_ms: int) -> None:
        self._metrics.orders.add(1, {"status": str(status), "side": str(side)})
        self._metrics.order_latency.record(max(latency_ms, 0) / 1000, {"status": str(status)})
