"""Liveness, readiness and metrics over HTTP, the same for every service.

``GET /healthcheck``: readiness. 200 with each dependency's state when the service can work,
503 otherwise (a dependency is down, a buffer is full, or the service is shutting down).
``GET /healthcheck/live``: liveness. 200 while the main loop beats, 503 when it has stalled.
``GET /metrics``: Prometheus text from the OpenTelemetry exporter.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from algo_common.telemetry import render_prometheus

Check = Callable[[], Awaitable[bool]]
CHECK_TIMEOUT_S = 1.0


@dataclass
class Health:
    """What the service knows about itself: dependency checks, pushed states, heartbeat."""

    liveness_timeout_s: float = 30.0
    shutting_down: bool = False
    _checks: dict[str, Check] = field(default_factory=dict)
    _states: dict[str, tuple[bool, str]] = field(default_factory=dict)
    _last_beat: float = field(default_factory=time.monotonic)

    def add_check(self, name: str, check: Check) -> None:
        """A dependency probed on every readiness request (e.g. Redis PING)."""
        self._checks[name] = check

    def set_state(self, name: str, ok: bool, detail: str = "") -> None:
        """A condition the service reports itself (e.g. "market feed connected", "buffer full")."""
        self._states[name] = (ok, detail)

    def beat(self) -> None:
        """Called by the main loop; liveness fails when beats stop."""
        self._last_beat = time.monotonic()

    def is_live(self) -> bool:
        return time.monotonic() - self._last_beat < self.liveness_timeout_s

    async def readiness(self) -> tuple[bool, dict[str, dict[str, object]]]:
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_check(self._checks[name]) for name in names))
        report: dict[str, dict[str, object]] = {
            name: {"ok": ok, "detail": detail} for name, (ok, detail) in zip(names, results, strict=True)
        }
        for name, (ok, detail) in self._states.items():
            report[name] = {"ok": ok, "detail": detail}
        if self.shutting_down:
            report["shutdown"] = {"ok": False, "detail": "draining"}
        return all(entry["ok"] for entry in report.values()), report

    @staticmethod
    async def _run_check(check: Check) -> tuple[bool, str]:
        try:
            ok = await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
        except Exception as e:
            return False, type(e).__name__
        return ok, "" if ok else "failed"


def create_health_app(service: str, health: Health) -> Starlette:
    async def readiness(_: Request) -> Response:
        ready, report = await health.readiness()
        body = {"service": service, "status": "ready" if ready else "not ready", "dependencies": report}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def liveness(_: Request) -> Response:
        live = health.is_live()
        return JSONResponse({"service": service, "live": live}, status_code=200 if live else 503)

    async def metrics(_: Request) -> Response:
        body, content_type = render_prometheus()
        return Response(body, media_type=content_type)

    return Starlette(
        routes=[
            Route("/healthcheck", readiness),
            Route("/healthcheck/live", liveness),
            Route("/metrics", metrics),
        ]
    )
