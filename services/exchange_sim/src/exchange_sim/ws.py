"""WebSocket endpoints: ``/ws``, ``/ws/<stream>[/<stream>...]`` (raw) and ``/stream?streams=a/b`` (combined).

Unknown symbols are accepted and stay silent, as on Binance, which does not validate stream names:
a client subscribed to ``xyzusdt@trade`` simply receives nothing (the simulator logs a warning).
More than ``max_streams`` names in the URL is refused with HTTP 400 before the upgrade.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from exchange_sim.connection import WsConnection
from exchange_sim.context import CONTEXT
from exchange_sim.streams import split_streams, symbol_of

log = structlog.get_logger(__name__)

MAX_CONTROL_FRAME_BYTES = 64 * 1024


async def raw_streams(request: web.Request) -> web.StreamResponse:
    return await _serve(request, split_streams(request.match_info.get("streams", "")), combined=False)


async def combined_streams(request: web.Request) -> web.StreamResponse:
    return await _serve(request, split_streams(request.query.get("streams", "")), combined=True)


async def _serve(request: web.Request, names: list[str], combined: bool) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    if len(names) > ctx.limits.max_streams:
        raise web.HTTPBadRequest(text=f"at most {ctx.limits.max_streams} streams per connection")
    ws = web.WebSocketResponse(autoping=False, compress=False, timeout=5.0, max_msg_size=MAX_CONTROL_FRAME_BYTES)
    if not ws.can_prepare(request).ok:
        raise web.HTTPBadRequest(text="expected a WebSocket upgrade")
    await ws.prepare(request)
    conn = WsConnection(
        ctx.hub.next_id(),
        ws,
        request,
        combined=combined,
        limits=ctx.limits,
        faults=ctx.faults,
        index=ctx.hub,
        stats=ctx.hub.stats,
    )
    ctx.hub.register(conn)
    unknown = sorted({symbol_of(name) for name in names if not ctx.has_symbol(symbol_of(name))})
    if unknown:
        log.warning("ws_unknown_symbols", conn=conn.id, symbols=unknown)
    conn.subscribe(names)
    log.info("ws_open", conn=conn.id, combined=combined, streams=len(names), remote=request.remote)
    try:
        await conn.run()
    finally:
        ctx.hub.unregister(conn)
        log.info("ws_end", conn=conn.id, close_code=ws.close_code)
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ws", raw_streams)
    app.router.add_get("/ws/{streams:.+}", raw_streams)
    app.router.add_get("/stream", combined_streams)
