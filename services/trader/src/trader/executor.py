"""One signal -> one order, exactly once: risk -> intent -> venue -> outcome.

:meth:`Executor.handle` is idempotent. It looks at what the ledger already holds for the
signal's order and does only what is missing, so a redelivered signal, a restart after a crash
at any step, or two traders racing on the same signal all end in one order with one outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from algo_common.clock import now_ms
from algo_common.domain.models import OrderStatus, Side, Signal
from algo_common.errors import TransientError
from algo_common.logging import get_logger
from algo_common.mongo import Document
from trader.failpoints import Failpoint, trigger
from trader.ledger import AppliedUpdate, Ledger
from trader.metrics import TraderMetrics
from trader.orders import intent_document, is_final, order_request, rejected_document
from trader.position import Oversell
from trader.pre_trade import Controls, PreTrade
from trader.risk import RejectReason, RiskLimits
from trader.venues.base import Venue

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
        controls: Controls,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._ledger = ledger
        self._venue = venue
        self._config = config
        self._metrics = metrics
        self._clock = clock
        self.pre_trade = PreTrade(ledger, controls, config.limits, config.starting_balance, metrics, clock)

    async def handle(self, signal: Signal, *, fresh: bool = False) -> None:
        """Returns once the venue's answer for the signal's order is durable (safe to acknowledge).

        ``fresh``: the stream entry's first delivery, which no earlier attempt can have handled,
        so the lookup is skipped and the intent inserted at once (one round trip less). The
        insert's duplicate check still finds an order stored under the same id (the same
        signal twice on the stream, another trader first), which is then resumed as usual.
        """
        order = None if fresh else await self._ledger.get_order(signal.signal_id)
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
        decision = await self.pre_trade.assess(signal, now)
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
            blocked = await self.pre_trade.still_allowed(signal.side) if resumed else None
            if blocked is not None:  # never sent, and the trading state now forbids sending it
                await self._reject_submitting(signal, self._clock(), blocked)
                return
            result = await self._venue.submit(request)
        trigger(self._config.failpoint, Failpoint.AFTER_ACK)
        if resumed:
            result = msgspec.structs.replace(result, detail=f"{result.detail}; resumed after an interrupted attempt")
        now = self._clock()
        try:
            applied = await self._ledger.apply_order_update(result, now, known=order)
        except Oversell:
            await self._reject_submitting(signal, now, RejectReason.POSITION_CHANGED)
            return
        if not applied.changed:
            log.info("outcome already recorded by another attempt", signal_id=signal.signal_id)
            return
        self._count_outcome(signal, applied, now)
        trigger(self._config.failpoint, Failpoint.AFTER_OUTCOME)

    async def _reject_submitting(self, signal: Signal, now: int, reason: RejectReason) -> None:
        """An intent that must not (or can no longer) execute: trading state, or a sell no longer covered."""
        if await self._ledger.reject_submitting(signal.signal_id, reason, now):
            self._count_rejection(signal, reason, now)

    def _count_rejection(self, signal: Signal, reason: RejectReason, now: int) -> None:
        log.warning("signal rejected", signal_id=signal.signal_id, symbol=signal.symbol, reason=str(reason))
        self._metrics.signals_rejected.add(1, {"reason": str(reason)})
        self._count_order(OrderStatus.REJECTED, signal.side, now - signal.ts_decision)

    def _count_outcome(self, signal: Signal, applied: AppliedUpdate, now: int) -> None:
        position = applied.position
        log.info(
            "order outcome recorded",
            signal_id=signal.signal_id,
            status=str(applied.status),
            fills=len(applied.new_fills),
            position_qty=None if position is None else str(position.qty),
        )
        if applied.status is not applied.previous_status:
            self._count_order(applied.status, signal.side, now - signal.ts_decision)
            if applied.status is OrderStatus.REJECTED:  # the venue's reason is in the order; the label stays fixed
                log.warning("order rejected by the venue", signal_id=signal.signal_id)
                self._metrics.signals_rejected.add(1, {"reason": str(RejectReason.VENUE_REJECTED)})
        for fill in applied.new_fills:
            self._metrics.fills.add(1, {"side": str(fill.side)})
        if position is not None:
            self._metrics.observe_position(position)

    def _count_order(self, status: OrderStatus, side: Side, latency_ms: int) -> None:
        self._metrics.orders.add(1, {"status": str(status), "side": str(side)})
        self._metrics.order_latency.record(max(latency_ms, 0) / 1000, {"status": str(status)})
