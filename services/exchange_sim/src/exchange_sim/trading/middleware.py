"""Request weight, bans and faults of the trading endpoints; 429 → 418 escalation for every ``/api/`` path.

Outermost middleware. For the trading paths it does what ``rest.binance_middleware`` does for
market data (charge weight, add ``X-MBX-USED-WEIGHT-1M``, turn errors into Binance's body) plus
Binance's trading rules, and calls the route's handler itself (``match_info.handler``) so the
weight is charged once, by the trading table: order placement and cancels cost nothing when they
succeed (since 2026-04-02) and their documented weight when they fail. Market-data paths go on
to ``binance_middleware``; a 429 they get is remembered for the ban escalation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from algo_common.binance.schemas import BinanceError
from exchange_sim.context import CONTEXT
from exchange_sim.rest import WEIGHT_HEADER, json_response
from exchange_sim.trading.errors import TradingError
from exchange_sim.trading.faults import RequestFault, Target
from exchange_sim.trading.handlers import ACCOUNT_PATH, MY_TRADES_PATH, OPEN_ORDERS_PATH, ORDER_PATH, ORDER_TEST_PATH
from exchange_sim.trading.state import TRADING, TradingState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNKNOWN_OUTCOME = (
    -1007,
    "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    weight: int
    kind: Target
    free_on_success: bool = False
    weight_without_symbol: int | None = None  # openOrders: 80 without a symbol
    weight_with_order_id: int | None = None  # myTrades: 5 with orderId

    def weight_of(self, request: web.Request) -> int:
        if self.weight_without_symbol is not None and "symbol" not in request.query:
            return self.weight_without_symbol
        if self.weight_with_order_id is not None and "orderId" in request.query:
            return self.weight_with_order_id
        return self.weight


ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("POST", ORDER_PATH): Endpoint(1, "new_order", free_on_success=True),
    ("POST", ORDER_TEST_PATH): Endpoint(1, "query"),
    ("GET", ORDER_PATH): Endpoint(4, "query"),
    ("DELETE", ORDER_PATH): Endpoint(1, "cancel", free_on_success=True),
    ("DELETE", OPEN_ORDERS_PATH): Endpoint(1, "cancel", free_on_success=True),
    ("GET", OPEN_ORDERS_PATH): Endpoint(6, "query", weight_without_symbol=80),
    ("GET", MY_TRADES_PATH): Endpoint(20, "query", weight_with_order_id=5),
    ("GET", ACCOUNT_PATH): Endpoint(20, "query"),
}


def error_response(code: int, msg: str, status: int, retry_after_s: int | None = None) -> web.Response:
    response = json_response(BinanceError(code=code, msg=msg), status=status)
    if retry_after_s is not None:
        response.headers["Retry-After"] = str(retry_after_s)
    return response


def banned_response(until_ms: int, retry_after_s: int) -> web.Response:
    msg = (
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans."
    )
    return error_response(-1003, msg, 418, retry_after_s)


@web.middleware
async def trading_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    state = request.app[TRADING]
    ip = request.remote or "unknown"
    state.bans.on_request(ip)
    banned = state.bans.banned_for(ip)
    if banned is not None:
        return banned_response(state.bans.banned_until_ms(ip), banned)
    endpoint = ENDPOINTS.get((request.method, request.path))
    if endpoint is None:
        response = await handler(request)
    else:
        response = await _serve(request, state, endpoint, ip)
    if response.status == 429:
        state.bans.on_limited(ip, float(response.headers.get("Retry-After", "60")))
    return response


async def _serve(request: web.Request, state: TradingState, endpoint: Endpoint, ip: str) -> web.StreamResponse:
    weights = request.app[CONTEXT].weights
    weight = endpoint.weight_of(request)
    charge = weights.charge(ip, 0 if endpoint.free_on_success else weight)
    headers = {WEIGHT_HEADER: str(charge.used)}
    response: web.StreamResponse
    fault: RequestFault | None = None
    if charge.over_limit:
        msg = (
            f"Too much request weight used; current limit is {weights.limit} request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API."
        )
        response = error_response(-1003, msg, 429, charge.retry_after_s)
    elif (forced := state.faults.take_forced_limit()) is not None:
        if forced.status == 418:
            response = banned_response(state.now_ms() + forced.retry_after_s * 1000, forced.retry_after_s)
        else:
            code, msg = (
                (-1015, "Too many new orders.")
                if endpoint.kind == "new_order"
                else (-1003, "Too many requests queued.")
            )
            response = error_response(code, msg, forced.status, forced.retry_after_s)
    elif (fault := state.faults.take_request_fault(endpoint.kind)) is not None and fault.mode == "before":
        response = error_response(*UNKNOWN_OUTCOME, fault.status)
    else:
        try:
            response = await request.match_info.handler(request)
        except TradingError as e:
            response = error_response(e.code, e.msg, e.status, e.retry_after_s)
        if endpoint.free_on_success and response.status >= 400:
            headers[WEIGHT_HEADER] = str(weights.charge(ip, weight).used)
    response.headers.update(headers)
    if fault is not None and fault.mode == "after":
        return await _lose(request, fault, headers)
    return response


async def _lose(request: web.Request, fault: RequestFault, headers: dict[str, str]) -> web.StreamResponse:
    """The request was executed; its response never arrives intact."""
    if fault.lost_as == "close":
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # aiohttp drops a handler cancelled after its connection died
    if fault.lost_as == "timeout":
        await asyncio.sleep(fault.hold_s)  # the client is meant to give up first
    response = error_response(*UNKNOWN_OUTCOME, fault.status)
    response.headers.update(headers)
    return response
