"""Control API of the trading side, under ``/_sim/trading/`` (JSON in and out, no auth).

Not part of Binance: tests and the demo use it to set accounts, make order requests fail or lose
their response, force 429/418, skew the server clock, drop or cut the user data stream, and read
every order, trade and balance (``GET /_sim/trading/state``) to compare with a trader's records.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import msgspec
import pydantic
from aiohttp import web

from algo_common.binance.trading_schemas import BinanceBalance, BinanceMyTrade, BinanceOrder
from exchange_sim.encoding import encode, fixed8
from exchange_sim.trading.config import AccountConfig
from exchange_sim.trading.faults import FailMode, ForcedLimit, LostAs, RequestFault, Target
from exchange_sim.trading.state import TRADING, TradingState
from exchange_sim.trading.ws_api import server_shutdown_frame

T = TypeVar("T")
PREFIX = "/_sim/trading"


class FailRequest(msgspec.Struct, frozen=True):
    count: int = 1
    target: Target = "new_order"
    mode: FailMode = "before"  # before: not executed; after: executed, response lost
    status: int = 503
    lost_as: LostAs = "error"  # after: error | timeout (held hold_s, then 5xx) | close (connection dropped)
    hold_s: float = 30.0


class RateLimitRequest(msgspec.Struct, frozen=True):
    count: int = 1
    status: Literal[429, 418] = 429
    retry_after_s: int = 1


class ClockRequest(msgspec.Struct, frozen=True):
    skew_ms: int


class DropRequest(msgspec.Struct, frozen=True):
    count: int  # user data events to swallow


class Done(msgspec.Struct, frozen=True):
    ok: bool = True
    connections: int | None = None


class ControlError(msgspec.Struct, frozen=True):
    error: str


class AccountState(msgspec.Struct, frozen=True):
    name: str
    uid: int
    update_time: int
    balances: list[BinanceBalance]
    orders: list[BinanceOrder]  # every order, oldest first
    trades: list[BinanceMyTrade]  # every fill, oldest first


class StreamState(msgspec.Struct, frozen=True):
    connections: int
    subscriptions: int
    events_sent: int
    events_dropped: int


class TradingStateView(msgspec.Struct, frozen=True):
    time_ms: int  # trading server clock (serverTime)
    clock_skew_ms: int
    accounts: list[AccountState]
    user_stream: StreamState
    pending_faults: dict[str, int]
    requests_failed: int


def _reply(obj: object, status: int = 200) -> web.Response:
    return web.Response(body=encode(obj), status=status, content_type="application/json")


async def _body(request: web.Request, kind: type[T]) -> T:
    try:
        return msgspec.json.decode((await request.read()) or b"{}", type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise web.HTTPBadRequest(text=encode(ControlError(str(e))).decode(), content_type="application/json") from e


def _positive(count: int) -> None:
    if count < 1:
        raise web.HTTPBadRequest(
            text=encode(ControlError("count must be >= 1")).decode(), content_type="application/json"
        )


def view(state: TradingState) -> TradingStateView:
    """Every account's balances, orders and trades, as the venue sees them."""
    accounts = []
    for account in state.keyring.accounts.values():
        accounts.append(
            AccountState(
                name=account.name,
                uid=account.uid,
                update_time=account.update_time,
                balances=[
                    BinanceBalance(asset=a, free=fixed8(b.free), locked=fixed8(b.locked))
                    for a, b in sorted(account.balances.items())
                ],
                orders=[o.to_query() for o in state.engine.orders.values() if o.account == account.name],
                trades=[f.to_binance() for f in state.engine.fills if f.account == account.name],
            )
        )
    return TradingStateView(
        time_ms=state.now_ms(),
        clock_skew_ms=state.clock.skew_ms,
        accounts=accounts,
        user_stream=StreamState(
            connections=len(state.connections),
            subscriptions=state.streams.count(),
            events_sent=state.streams.events_sent,
            events_dropped=state.faults.events_dropped,
        ),
        pending_faults=state.faults.pending(),
        requests_failed=state.faults.requests_failed,
    )


async def get_state(request: web.Request) -> web.Response:
    return _reply(view(request.app[TRADING]))


async def set_account(request: web.Request) -> web.Response:
    state = request.app[TRADING]
    try:
        config = AccountConfig.model_validate_json((await request.read()) or b"{}")
    except pydantic.ValidationError as e:
        return _reply(ControlError(str(e)), 400)
    try:
        state.keyring.configure(config, state.now_ms())
    except ValueError as e:
        return _reply(ControlError(str(e)), 400)
    return _reply(Done())


async def fail(request: web.Request) -> web.Response:
    body = await _body(request, FailRequest)
    _positive(body.count)
    if not 500 <= body.status <= 599:
        return _reply(ControlError("status must be 5xx"), 400)
    fault = RequestFault(mode=body.mode, status=body.status, lost_as=body.lost_as, hold_s=body.hold_s)
    request.app[TRADING].faults.fail_requests(body.target, body.count, fault)
    return _reply(Done())


async def rate_limit(request: web.Request) -> web.Response:
    body = await _body(request, RateLimitRequest)
    _positive(body.count)
    request.app[TRADING].faults.force_limit(body.count, ForcedLimit(body.status, max(1, body.retry_after_s)))
    return _reply(Done())


async def clock(request: web.Request) -> web.Response:
    body = await _body(request, ClockRequest)
    request.app[TRADING].clock.skew_ms = body.skew_ms
    return _reply(Done())


async def drop_events(request: web.Request) -> web.Response:
    body = await _body(request, DropRequest)
    _positive(body.count)
    request.app[TRADING].faults.drop_events += body.count
    return _reply(Done())


async def disconnect(request: web.Request) -> web.Response:
    conns = list(request.app[TRADING].connections)
    for conn in conns:
        conn.abort("disconnected by control API")
    return _reply(Done(connections=len(conns)))


async def server_shutdown(request: web.Request) -> web.Response:
    state = request.app[TRADING]
    data = server_shutdown_frame(state.now_ms())
    sent = sum(conn.offer(data) for conn in list(state.connections))
    return _reply(Done(connections=sent))


async def reset_faults(request: web.Request) -> web.Response:
    state = request.app[TRADING]
    state.faults.clear()
    state.bans.lift()
    state.clock.skew_ms = state.settings.trading_clock_skew_ms
    return _reply(Done())


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/state", get_state)
    for name, handler in {
        "accounts": set_account,
        "fail": fail,
        "rate-limit": rate_limit,
        "clock": clock,
        "drop-events": drop_events,
        "disconnect": disconnect,
        "server-shutdown": server_shutdown,
        "reset": reset_faults,
    }.items():
        app.router.add_post(f"{PREFIX}/{name}", handler)
