"""Binance spot as a trader ``Venue``: MARKET orders that are never sent twice.

``client_order_id`` (the signal id) is sent as ``newClientOrderId``. Binance accepts a repeated id
once the earlier order is no longer open, so a blind resend after a lost answer could trade twice:
whenever the outcome is unknown (timeout, lost connection, 5xx, -1007) the order is first looked
up by ``origClientOrderId``; only ``-2013`` (it does not exist), confirmed once the unanswered
copy's ``recvWindow`` has passed (Binance drops a request older than that before matching it),
allows sending it again, with the same id. ``-2010 Duplicate order sent.`` means it exists: its
state is adopted. Exchange filters are applied before anything is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import msgspec

from algo_common.binance.trading_schemas import BinanceAccount, BinanceMyTrade, BinanceOrder, BinanceOrderResult
from algo_common.domain.models import OrderStatus, Side
from algo_common.errors import OutcomeUnknown, TransientError
from algo_common.logging import get_logger
from trader.venues.base import OrderRequest, OrderResult
from trader.venues.binance.client import ORDER_PATH, BinanceRestClient
from trader.venues.binance.errors import NO_SUCH_ORDER, Action, BinanceApiError, VenueUnavailable, decide
from trader.venues.binance.exchange_info import ExchangeInfoCache
from trader.venues.binance.filters import prepare_market_quantity
from trader.venues.binance.mapping import from_order_response, from_query

log = get_logger(__name__)
MY_TRADES_PATH = "/api/v3/myTrades"
ACCOUNT_PATH = "/api/v3/account"
MAX_SENDS = 3
"""Sends of one order within one submit (each after a query proved the previous never arrived)."""

RECV_WINDOW_MARGIN_MS = 250
"""Past the last copy's timestamp + recvWindow by this much, it cannot execute any more."""

SymbolLookup = Callable[[str], Awaitable[str | None]]
_result_decoder = msgspec.json.Decoder(BinanceOrderResult)
_order_decoder = msgspec.json.Decoder(BinanceOrder)
_trades_decoder = msgspec.json.Decoder(list[BinanceMyTrade])
_account_decoder = msgspec.json.Decoder(BinanceAccount)


async def _no_lookup(_client_order_id: str) -> str | None:
    return None


class BinanceVenue:
    """MARKET orders on Binance spot (production or testnet, by base URL)."""

    def __init__(self, client: BinanceRestClient, info: ExchangeInfoCache) -> None:
        self.client = client
        self.info = info
        self.symbol_lookup: SymbolLookup = _no_lookup
        """Symbol of a stored order (the ledger's), for queries by client id after a restart."""

    @property
    def name(self) -> str:
        return "binance"

    async def submit(self, order: OrderRequest) -> OrderResult:
        rules = await self.info.rules(order.symbol)
        quantity = order.quantity
        if order.side is Side.SELL:
            quantity = min(quantity, await self.free_balance(rules.base_asset))
        prepared = prepare_market_quantity(rules, quantity, order.price)
        if prepared.reject_reason is not None:
            log.warning(
                "order refused by exchange filters; not sent",
                client_order_id=order.client_order_id,
                reason=prepared.reject_reason,
            )
            return OrderResult(
                client_order_id=order.client_order_id,
                status=OrderStatus.REJECTED,
                reject_reason=prepared.reject_reason,
                detail="refused before sending: exchange filters",
            )
        params: list[tuple[str, object]] = [
            ("symbol", order.symbol),
            ("side", str(order.side)),
            ("type", "MARKET"),
            ("quantity", f"{prepared.quantity:f}"),
            ("newClientOrderId", order.client_order_id),
            ("newOrderRespType", "FULL"),
        ]
        sent: list[int] = []
        for _ in range(MAX_SENDS):
            try:
                response = _decode_result(await self.client.signed("POST", ORDER_PATH, params, sent))
            except (OutcomeUnknown, BinanceApiError) as e:
                state = await self._after_failure(order, e, sent)
                if state is None:
                    continue  # it never reached Binance: send it again under the same id
                return state
            result = from_order_response(response, rules)
            if prepared.quantity != order.quantity:
                note = f"quantity {order.quantity} cut to {prepared.quantity} (step size, free balance)"
                result = msgspec.structs.replace(result, detail=f"{result.detail}; {note}")
            return result
        raise OutcomeUnknown(f"order {order.client_order_id}: no answer after {MAX_SENDS} sends; will query again")

    async def _after_failure(self, order: OrderRequest, error: Exception, sent: list[int]) -> OrderResult | None:
        """The order's state after a failed send, or None when it provably never reached Binance.

        "Provably": the query says -2013 after the last copy's ``recvWindow`` has passed, so no
        copy still queued at Binance can execute any more (BINANCE.md §4: the window is checked
        again just before the matching engine).
        """
        action = decide(error)
        if action is Action.REJECT and isinstance(error, BinanceApiError):
            return self._rejected(order, error)
        if action is Action.NOT_READY:
            raise VenueUnavailable(f"Binance refused order {order.client_order_id}: {error}") from error
        existing = await self.query_order(order.symbol, order.client_order_id)
        if existing is None and action is Action.QUERY and sent:
            await self._outlive_recv_window(sent[-1])
            existing = await self.query_order(order.symbol, order.client_order_id)
        if existing is not None:
            log.warning(
                "order found after a failed send; adopting it",
                client_order_id=order.client_order_id,
                error=str(error),
                status=str(existing.status),
            )
            return msgspec.structs.replace(existing, detail=f"{existing.detail}; adopted after: {error}")
        if action is Action.ADOPT:
            raise TransientError(f"Binance says {order.client_order_id} is a duplicate but cannot find it") from error
        log.warning(
            "order never reached Binance; sending it again with the same id",
            client_order_id=order.client_order_id,
            error=str(error),
        )
        return None

    async def _outlive_recv_window(self, timestamp: int) -> None:
        wait_ms = timestamp + self.client.recv_window_ms + RECV_WINDOW_MARGIN_MS - self.client.clock.now_ms()
        if wait_ms > 0:
            log.info("waiting out the recvWindow of the unanswered order request", wait_ms=wait_ms)
            await asyncio.sleep(wait_ms / 1000)

    async def query(self, client_order_id: str) -> OrderResult | None:
        """Asked when resuming an order whose earlier attempt was interrupted (crash, error).

        A copy sent just before the interruption may still be queued at Binance; once one
        ``recvWindow`` has passed it cannot execute any more, so "does not exist" is asked twice,
        a window apart, before the executor may send the order again.
        """
        symbol = await self.symbol_lookup(client_order_id)
        if symbol is None:
            return None  # never stored, so never sent
        result = await self.query_order(symbol, client_order_id)
        if result is None:
            await asyncio.sleep((self.client.recv_window_ms + RECV_WINDOW_MARGIN_MS) / 1000)
            result = await self.query_order(symbol, client_order_id)
        return result

    async def query_order(self, symbol: str, client_order_id: str) -> OrderResult | None:
        """The order and its fills as Binance has them, or None when it does not exist (-2013)."""
        try:
            raw = await self.client.signed(
                "GET", ORDER_PATH, [("symbol", symbol), ("origClientOrderId", client_order_id)]
            )
        except BinanceApiError as e:
            if e.code == NO_SUCH_ORDER:
                return None
            raise VenueUnavailable(f"query of {client_order_id} refused: {e}") from e
        try:
            order = _order_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise TransientError(f"query of {client_order_id}: undecodable answer: {e}") from e
        return await self.complete(order)

    async def complete(self, order: BinanceOrder) -> OrderResult:
        """An order from a query or ``openOrders`` with its fills (``myTrades`` by ``orderId``)."""
        rules = await self.info.rules(order.symbol)
        trades: list[BinanceMyTrade] = []
        if order.executedQty > 0:
            trades = await self.trades(order.symbol, order.orderId)
        return from_query(order, trades, rules)

    async def free_balance(self, asset: str) -> Decimal:
        """Free balance of ``asset`` now: a SELL never asks for more than the account holds.

        The position already excludes base-asset commissions and the risk check compared the SELL
        with the free balance the user data stream reported; this fresh read also covers a balance
        that changed since (a withdrawal, a trade made outside this trader).
        """
        try:
            account = _account_decoder.decode(
                await self.client.signed("GET", ACCOUNT_PATH, [("omitZeroBalances", "true")])
            )
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise TransientError(f"account answer undecodable: {e}") from e
        return next((b.free for b in account.balances if b.asset == asset), Decimal(0))

    async def trades(self, symbol: str, order_id: int) -> list[BinanceMyTrade]:
        raw = await self.client.signed("GET", MY_TRADES_PATH, [("symbol", symbol), ("orderId", order_id)])
        try:
            return _trades_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise TransientError(f"myTrades of order {order_id}: undecodable answer: {e}") from e

    def _rejected(self, order: OrderRequest, error: BinanceApiError) -> OrderResult:
        reason = f"binance {error.code}: {error.msg}"
        log.warning("order rejected by Binance", client_order_id=order.client_order_id, reason=reason)
        return OrderResult(
            client_order_id=order.client_order_id,
            status=OrderStatus.REJECTED,
            reject_reason=reason,
            detail=f"rejected by Binance (HTTP {error.status})",
        )


def _decode_result(raw: bytes) -> BinanceOrderResult:
    """The order answer; one we cannot read leaves the outcome unknown (the order may exist)."""
    try:
        return _result_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise OutcomeUnknown(f"order answer undecodable: {e}") from e
