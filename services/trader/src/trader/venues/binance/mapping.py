"""Binance order answers and user data events -> the trader's ``OrderResult`` (pure).

Fill ids are ``<client order id>-<trade id>``: the REST response, the user data stream and a
reconciliation all name one execution the same way, so the ledger stores it once whichever path
brings it first. A fill's fee is the commission exactly as Binance charged it, with its asset
(``commissionAsset``): the base asset (Binance's BUY default), the quote asset (SELL default) or a
third one (BNB); the position accounting decides what each means (:mod:`trader.position`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from algo_common.binance.trading_schemas import (
    BinanceExecutionReport,
    BinanceMyTrade,
    BinanceOrder,
    BinanceOrderResult,
)
from algo_common.domain.ids import fill_id
from algo_common.domain.models import Fill, OrderStatus, Side
from trader.venues.base import OrderResult
from trader.venues.binance.filters import SymbolRules

ZERO = Decimal(0)
_STATUSES = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


def to_status(binance_status: str) -> OrderStatus:
    try:
        return _STATUSES[binance_status]
    except KeyError:
        raise ValueError(f"unknown Binance order status {binance_status!r}") from None


def commission(amount: Decimal, asset: str | None, rules: SymbolRules) -> tuple[Decimal, str]:
    """The fill's fee and its asset as charged; no commission is 0 in the quote asset."""
    if not amount or asset is None:
        return ZERO, rules.quote_asset
    return amount, asset


def to_fill(
    client_order_id: str,
    side: str,
    trade_id: int,
    price: Decimal,
    qty: Decimal,
    commission_amount: Decimal,
    commission_asset: str | None,
    ts: int,
    rules: SymbolRules,
) -> Fill:
    fee, fee_asset = commission(commission_amount, commission_asset, rules)
    return Fill(
        fill_id=fill_id(client_order_id, trade_id),
        client_order_id=client_order_id,
        symbol=rules.symbol,
        side=Side(side),
        price=price,
        qty=qty,
        fee=fee,
        fee_asset=fee_asset,
        ts=ts,
    )


def from_order_response(response: BinanceOrderResult, rules: SymbolRules) -> OrderResult:
    """A FULL ``POST /api/v3/order`` answer."""
    fills = tuple(
        to_fill(
            response.clientOrderId,
            response.side,
            f.tradeId,
            f.price,
            f.qty,
            f.commission,
            f.commissionAsset,
            response.transactTime,
            rules,
        )
        for f in (response.fills or [])
    )
    detail = _detail(response.orderId, response.status, response.executedQty, response.cummulativeQuoteQty, fills)
    return OrderResult(
        client_order_id=response.clientOrderId, status=to_status(response.status), fills=fills, detail=detail
    )


def from_query(order: BinanceOrder, trades: Iterable[BinanceMyTrade], rules: SymbolRules) -> OrderResult:
    """``GET /api/v3/order`` plus the order's ``myTrades``: the venue's whole view of one order."""
    fills = tuple(
        to_fill(order.clientOrderId, order.side, t.id, t.price, t.qty, t.commission, t.commissionAsset, t.time, rules)
        for t in sorted(trades, key=lambda t: t.id)
        if t.orderId == order.orderId
    )
    detail = _detail(order.orderId, order.status, order.executedQty, order.cummulativeQuoteQty, fills)
    return OrderResult(client_order_id=order.clientOrderId, status=to_status(order.status), fills=fills, detail=detail)


def from_execution_report(report: BinanceExecutionReport, rules: SymbolRules) -> OrderResult:
    """One ``executionReport``: the order's status now and the execution it reports, if any.

    A cancel reports the cancel request's id in ``c`` and the order's in ``C``.
    """
    client_order_id = report.C if report.x == "CANCELED" and report.C else report.c
    fills: tuple[Fill, ...] = ()
    if report.x == "TRADE" and report.t >= 0:
        fills = (to_fill(client_order_id, report.S, report.t, report.L, report.l, report.n, report.N, report.T, rules),)
    reject = report.r if report.X == "REJECTED" and report.r != "NONE" else None
    detail = f"user data stream: {report.x} order {report.i} {report.X}, filled {report.z.normalize():f}"
    return OrderResult(
        client_order_id=client_order_id, status=to_status(report.X), fills=fills, reject_reason=reject, detail=detail
    )


def _detail(order_id: int, status: str, executed: Decimal, quote: Decimal, fills: tuple[Fill, ...]) -> str:
    amounts = f"executed {executed.normalize():f} for {quote.normalize():f}"
    return f"binance order {order_id} {status}: {amounts} in {len(fills)} fill(s)"
