"""Every rendered pod, with every values file: probes on the real port, resources, non-root, pinned images."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.chart import HTTP_PORT_ENV, PIPELINE, VALUES_FILES, render

VALUES = pytest.mark.parametrize("values", list(VALUES_FILES.values()), ids=list(VALUES_FILES))


@VALUES
def test_every_service_container_probes_the_port_it_listens_on(values: Path | None) -> None:
    # arrange
    rendered = render(values)
    services = [c for c in rendered.containers(init=False) if c.component in PIPELINE]
    # act
    seen = {}
    for container in services:
        plain, _ = rendered.environment(container)
        ports = [p["containerPort"] for p in container.spec["ports"]]
        live = container.spec["livenessProbe"]["httpGet"]
        ready = container.spec["readinessProbe"]["httpGet"]
        seen[container.name] = (ports, live["port"], ready["port"], int(plain[HTTP_PORT_ENV[container.component]]))
    # assert
    assert services, "no service container rendered"
    for name, (ports, live_port, ready_port, env_port) in seen.items():
        assert ports == [env_port] == [live_port] == [ready_port], name
    for container in services:
        if container.component != "exchange-sim":
            assert container.spec["livenessProbe"]["httpGet"]["path"] == "/healthcheck/live"
            assert container.spec["readinessProbe"]["httpGet"]["path"] == "/healthcheck"


@VALUES
def test_the_processor_has_a_startup_probe_for_its_warm_up(values: Path | None) -> None:
    # arrange / act
    processors = [c for c in render(values).containers(init=False) if c.component == "processor"]
    # assert
    assert processors
    for container in processors:
        startup = container.spec["startupProbe"]
        assert startup["httpGet"]["port"] == container.spec["ports"][0]["containerPort"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300, "warm-up gets at least 5 minutes"


@VALUES
def test_every_container_has_probes_and_resources(values: Path | None) -> None:
    # arrange / act
    containers = list(render(values).containers())
    # assert
    assert len(containers) >= 5
    for container in containers:
        resources = container.spec.get("resources", {})
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{container.name} {kind}"
        if not container.init:
            assert "livenessProbe" in container.spec, container.name
            assert "readinessProbe" in container.spec, container.name


@VALUES
def test_every_pod_runs_as_non_root_with_a_read_only_root_filesystem(values: Path | None) -> None:
    # arrange / act
    rendered = render(values)
    # assert
    for workload in rendered.workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
    for container in rendered.containers():
        security = container.spec["securityContext"]
        assert security["runAsNonRoot"] is True, container.name
        assert security["runAsUser"] == 10001, container.name
        assert security["readOnlyRootFilesystem"] is True, container.name
        assert security["allowPrivilegeEscalation"] is False, container.name
        assert security["capabilities"]["drop"] == ["ALL"], container.name
        mounts = {m["mountPath"] for m in container.spec.get("volumeMounts", [])}
        assert container.init or "/tmp" in mounts, f"{container.name}: no writable /tmp"


@VALUES
def test_no_image_is_latest_or_untagged(values: Path | None) -> None:
    # arrange / act
    images = {c.spec["image"] for c in render(values).containers()}
    # assert
    assert len(images) >= 4
    for image in images:
        name = image.split("@")[0]
        assert ":" in name.rsplit("/", 1)[-1], f"untagged image {image}"
        assert not name.endswith(":latest"), image


def test_service_images_follow_the_prefix_tag_and_digest_values() -> None:
    # arrange
    digest = "sha256:" + "a" * 64
    # act
    rendered = render(
        None, "images.repositoryPrefix=registry.example/team", "images.tag=1.2.3", f"images.digests.trader={digest}"
    )
    images = {c.component: c.spec["image"] for c in rendered.containers(init=False)}
    # assert
    assert images["collector"] == "registry.example/team/collector:1.2.3"
    assert images["trader"] == f"registry.example/team/trader:1.2.3@{digest}"


def test_a_config_change_rolls_the_pods() -> None:
    # arrange
    def checksums(*sets: str) -> set[str]:
        return {
            w["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
            for w in render(None, *sets).workloads_of("trader")
        }

    # act
    before, after = checksums(), checksums("trader.config.FEE_RATE=0.002")
    # assert
    assert before != after


def test_an_image_override_replaces_prefix_tag_and_digest() -> None:
    # arrange: what skaffold and Tilt pass for the images they built
    built = "algo-trade/processor:4f2a9c1"
    # act
    rendered = render(None, f"images.overrides.processor={built}", "images.digests.processor=sha256:" + "b" * 64)
    images = {c.component: c.spec["image"] for c in rendered.containers(init=False)}
    # assert
    assert images["processor"] == built
    assert images["collector"] == "algo-trade/collector:0.1.0"
