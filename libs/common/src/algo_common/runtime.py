"""Run a service: health server, main loop, signal handling, bounded drain on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Generator

import uvicorn

from algo_common.health import Health, create_health_app
from algo_common.logging import get_logger
from algo_common.settings import BaseServiceSettings
from algo_common.telemetry import setup_metrics, start_profiling

log = get_logger(__name__)

MainLoop = Callable[[asyncio.Event], Awaitable[None]]
"""The service body: runs until the event is set, then finishes in-flight work and returns."""


class _QuietSignalsServer(uvicorn.Server):
    """uvicorn without its own signal handlers: SIGTERM belongs to :func:`run_service`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


async def run_service(service: str, settings: BaseServiceSettings, health: Health, main: MainLoop) -> None:
    """Serve /healthcheck and /metrics while ``main`` runs; on SIGTERM/SIGINT drain within the grace."""
    setup_metrics(service)
    if start_profiling(service, settings.pyroscope_server_address):
        log.info("profiling enabled")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    server = _QuietSignalsServer(
        uvicorn.Config(
            create_health_app(service, health),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )
    http_task = asyncio.create_task(server.serve(), name="health-http")
    main_task: asyncio.Task[None] = asyncio.ensure_future(main(stop))
    log.info("service started", http_port=settings.http_port)

    stop_task = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({main_task, stop_task, http_task}, return_when=asyncio.FIRST_COMPLETED)
    health.shutting_down = True
    stop.set()
    if main_task not in done:
        log.info("draining", grace_s=settings.shutdown_grace_s)
        try:
            await asyncio.wait_for(main_task, settings.shutdown_grace_s)
        except TimeoutError:
            log.warning("drain exceeded grace period; cancelling")
    error = main_task.exception() if main_task.done() and not main_task.cancelled() else None
    server.should_exit = True
    await asyncio.gather(http_task, return_exceptions=True)
    stop_task.cancel()
    log.info("service stopped")
    if error is not None:
        raise error
