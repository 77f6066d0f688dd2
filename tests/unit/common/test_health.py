"""The health app answers readiness from checks and states, liveness from the heartbeat."""

from __future__ import annotations

import httpx

from algo_common.health import Health, create_health_app
from algo_common.telemetry import get_meter


async def _ok() -> bool:
    return True


async def _broken() -> bool:
    raise ConnectionError("refused")


async def _get(health: Health, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_health_app("unit", health))
    async with httpx.AsyncClient(transport=transport, base_url="http://unit") as client:
        return await client.get(path)


async def test_ready_when_every_check_and_state_passes() -> None:
    health = Health()
    health.add_check("redis", _ok)
    health.set_state("feed", True, "connected")
    response = await _get(health, "/healthcheck")
    assert response.status_code == 200
    assert response.json()["dependencies"]["redis"] == {"ok": True, "detail": ""}


async def test_not_ready_names_the_failing_dependency() -> None:
    health = Health()
    health.add_check("redis", _ok)
    health.add_check("mongodb", _broken)
    response = await _get(health, "/healthcheck")
    assert response.status_code == 503
    assert response.json()["dependencies"]["mongodb"] == {"ok": False, "detail": "ConnectionError"}


async def test_draining_service_is_not_ready_but_live() -> None:
    health = Health()
    health.shutting_down = True
    assert (await _get(health, "/healthcheck")).status_code == 503
    assert (await _get(health, "/healthcheck/live")).status_code == 200


async def test_stalled_main_loop_fails_liveness() -> None:
    health = Health(liveness_timeout_s=0.0)
    assert (await _get(health, "/healthcheck/live")).status_code == 503


async def test_metrics_are_prometheus_text_from_opentelemetry() -> None:
    get_meter("unit").create_counter("unit_things_done").add(3, {"kind": "x"})
    response = await _get(Health(), "/metrics")
    assert response.status_code == 200
    assert 'unit_things_done_total{kind="x"' in response.text
    assert "process_cpu_seconds_total" in response.text
