"""Control API under ``/_sim/``: faults, market stepping and state, JSON in and out.

Not part of Binance: tests and the demo use it to make the venue misbehave on purpose.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TypeVar

import msgspec
from aiohttp import web

from exchange_sim.context import CONTEXT, SimContext, SymbolState
from exchange_sim.encoding import encode
from exchange_sim.faults import server_shutdown_frames

T = TypeVar("T")


class StallRequest(msgspec.Struct, frozen=True):
    seconds: float  # 0 ends a stall


class SkipRequest(msgspec.Struct, frozen=True):
    symbol: str
    count: int = 1  # update ids to skip


class RestFailRequest(msgspec.Struct, frozen=True):
    status: int  # 429 (rate limited) or 418 (IP banned)
    count: int = 1  # market-data REST requests to answer so
    retry_after_s: int = 1  # the Retry-After header


class InjectRequest(msgspec.Struct, frozen=True):
    text: str  # sent as-is as one text frame


class PathRequest(msgspec.Struct, frozen=True):
    symbol: str
    closes: list[Decimal]  # bar closes, e.g. ["100.5", "101"]


class StepRequest(msgspec.Struct, frozen=True):
    n: int = 1


class Sent(msgspec.Struct, frozen=True):
    connections: int  # connections the action reached


class Stalled(msgspec.Struct, frozen=True):
    seconds: float


class Paused(msgspec.Struct, frozen=True):
    paused: bool


class PathQueued(msgspec.Struct, frozen=True):
    symbol: str
    pending: int  # scripted bars not yet started


class Stepped(msgspec.Struct, frozen=True):
    steps: int  # steps that produced events (idle steps in path mode produce none)
    time_ms: int


class ControlError(msgspec.Struct, frozen=True):
    error: str


class SimState(msgspec.Struct, frozen=True):
    """Everything a test may want to assert on, in one answer."""

    mode: str
    time_ms: int
    steps: int
    paused: bool
    stalled: bool
    connections_active: int
    connections_total: int
    pings_sent: int
    pongs_received: int
    frames_sent: int
    frames_lost_in_stall: int
    rest_failures_sent: int  # rate-limit answers given through /_sim/rest-fail
    dropped_slow: int
    closed_rate_limit: int
    closed_pong_timeout: int
    closed_lifetime: int
    symbols: list[SymbolState]


def _reply(obj: object, status: int = 200) -> web.Response:
    return web.Response(body=encode(obj), status=status, content_type="application/json")


async def _body(request: web.Request, kind: type[T]) -> T:
    raw = await request.read()
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise _refused(str(e)) from e


def _refused(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=encode(ControlError(reason)).decode(), content_type="application/json")


def _known(ctx: SimContext, symbol: str) -> str:
    if not ctx.has_symbol(symbol):
        raise _refused(f"unknown symbol {symbol}")
    return symbol


async def cut(request: web.Request) -> web.Response:
    return _reply(Sent(request.app[CONTEXT].hub.cut()))


async def stall(request: web.Request) -> web.Response:
    body = await _body(request, StallRequest)
    if body.seconds < 0:
        return _reply(ControlError("seconds must be >= 0"), 400)
    request.app[CONTEXT].faults.stall(body.seconds, time.monotonic())
    return _reply(Stalled(body.seconds))


async def skip_sequence(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await _body(request, SkipRequest)
    try:
        ctx.venue.request_skip(_known(ctx, body.symbol), body.count)
    except ValueError as e:
        return _reply(ControlError(str(e)), 400)
    return _reply(Sent(len(ctx.hub.connections)))


async def rest_fail(request: web.Request) -> web.Response:
    body = await _body(request, RestFailRequest)
    try:
        request.app[CONTEXT].faults.fail_rest(body.status, body.count, body.retry_after_s)
    except ValueError as e:
        return _reply(ControlError(str(e)), 400)
    return _reply(body)


async def server_shutdown(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    raw, combined = server_shutdown_frames(ctx.venue.now_ms())
    return _reply(Sent(ctx.hub.send_to_all(raw, combined)))


async def inject(request: web.Request) -> web.Response:
    body = await _body(request, InjectRequest)
    return _reply(Sent(request.app[CONTEXT].hub.send_to_all(body.text.encode())))


async def pause(request: web.Request) -> web.Response:
    request.app[CONTEXT].faults.paused = True
    return _reply(Paused(True))


async def resume(request: web.Request) -> web.Response:
    request.app[CONTEXT].faults.paused = False
    return _reply(Paused(False))


async def path(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await _body(request, PathRequest)
    try:
        pending = ctx.venue.append_path(_known(ctx, body.symbol), body.closes)
    except ValueError as e:
        return _reply(ControlError(str(e)), 400)
    return _reply(PathQueued(body.symbol, pending))


async def step(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    body = await _body(request, StepRequest)
    if not 1 <= body.n <= 100_000:
        return _reply(ControlError("n must be 1..100000"), 400)
    return _reply(Stepped(ctx.step(body.n), ctx.venue.now_ms()))


async def state(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    stats = ctx.hub.stats
    return _reply(
        SimState(
            mode=ctx.settings.mode,
            time_ms=ctx.venue.now_ms(),
            steps=ctx.venue.steps_done(),
            paused=ctx.faults.paused,
            stalled=ctx.faults.is_stalled(time.monotonic()),
            connections_active=len(ctx.hub.connections),
            connections_total=stats.accepted_total,
            pings_sent=stats.pings_sent,
            pongs_received=stats.pongs_received,
            frames_sent=stats.frames_sent,
            frames_lost_in_stall=ctx.faults.frames_lost_in_stall,
            rest_failures_sent=ctx.faults.rest_failures_sent,
            dropped_slow=stats.dropped_slow,
            closed_rate_limit=stats.closed_rate_limit,
            closed_pong_timeout=stats.closed_pong_timeout,
            closed_lifetime=stats.closed_lifetime,
            symbols=ctx.venue.state(),
        )
    )


def add_routes(app: web.Application) -> None:
    for name, handler in {
        "cut": cut,
        "stall": stall,
        "skip-sequence": skip_sequence,
        "server-shutdown": server_shutdown,
        "rest-fail": rest_fail,
        "inject": inject,
        "pause": pause,
        "resume": resume,
        "path": path,
        "step": step,
    }.items():
        app.router.add_post(f"/_sim/{name}", handler)
    app.router.add_get("/_sim/state", state)
