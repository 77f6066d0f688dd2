"""Run the simulator inside an existing event loop (tests, the demo) or as the CLI does."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from exchange_sim.app import create_app
from exchange_sim.context import CONTEXT, SimContext
from exchange_sim.settings import SimSettings

SHUTDOWN_TIMEOUT_S = 5.0


@dataclass(slots=True)
class RunningSimulator:
    """A started simulator and the URLs to reach it."""

    app: web.Application
    runner: web.AppRunner
    host: str
    port: int

    @property
    def context(self) -> SimContext:
        """The live state (market, hub, faults), for in-process assertions."""
        return self.app[CONTEXT]

    @property
    def rest_url(self) -> str:
        """Base of the Binance REST API, e.g. ``http://127.0.0.1:9900`` (paths start ``/api/v3``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base of the Binance streams, e.g. ``ws://127.0.0.1:9900`` (``/ws/...``, ``/stream?...``)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        """Base of the control API, e.g. ``http://127.0.0.1:9900/_sim``."""
        return f"http://{self.host}:{self.port}/_sim"

    async def close(self) -> None:
        """Close every connection (1001), stop the market loop and free the port."""
        await self.runner.cleanup()


async def start_simulator(settings: SimSettings, *, wall_time: Callable[[], float] = time.time) -> RunningSimulator:
    """Start serving on ``settings.host:settings.port`` (port 0 picks a free port)."""
    app = create_app(settings, wall_time=wall_time)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "", "::") else settings.host  # noqa: S104
    return RunningSimulator(app=app, runner=runner, host=host, port=site.port)
