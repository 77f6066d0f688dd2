"""The Tiltfile (run offline by deploy/checks/tiltfile.py with stub builtins) deploys what the chart and the
Dockerfile provide: the dev values, live update into the image's real site-packages, the services' ports."""

from __future__ import annotations

import json
import re

from tests.deploy.chart import DEV_VALUES, ROOT, load_yaml
from tests.deploy.test_dockerfiles import stages
from tests.deploy.tiltfile import tilt_calls


def test_tilt_installs_the_chart_with_the_dev_values_and_stable_secrets() -> None:
    # arrange / act
    calls = tilt_calls()
    (helm,) = calls["helm"]
    (secrets,) = calls["local_resource"]
    members = load_yaml(DEV_VALUES)["mongodb"]["replicas"]
    # assert: helm template cannot look up existing Secrets, so Tilt creates them once and names them
    assert helm["values"] == ["charts/algo-trade/values-dev.yaml"]
    assert "development.writableRootFilesystem=true" in helm["set"]
    assert {"mongodb.auth.existingSecret=algo-trade-mongodb", "redis.auth.existingSecret=algo-trade-redis"} <= set(
        helm["set"]
    )
    assert secrets["cmd"].startswith(f"MONGODB_MEMBERS={members} k8s/create-secrets.sh")
    deps = {c["workload"]: c["resource_deps"] for c in calls["k8s_resource"]}
    assert secrets["name"] in deps["algo-trade-mongodb"]
    assert secrets["name"] in deps["algo-trade-redis"]


def test_live_update_syncs_sources_into_the_image_site_packages() -> None:
    # arrange
    python = re.match(r"python:(\d+\.\d+)", stages()[0].base)
    assert python is not None
    site = f"/opt/venv/lib/python{python.group(1)}/site-packages"
    entrypoint = json.loads(next(e for s in stages() for e in s.args("ENTRYPOINT")))
    # act / assert
    for build in tilt_calls()["docker_build"]:
        module = build["build_args"]["MODULE"]
        syncs = {s["local_path"]: s["remote_path"] for s in build["live_update"] if s["step"] == "sync"}
        assert syncs == {
            "libs/common/src/algo_common": f"{site}/algo_common",
            f"services/{module}/src/{module}": f"{site}/{module}",
        }
        assert build["live_update"][0]["step"] == "fall_back_on", "Tilt wants fall_back_on first"
        assert build["target"] == "live"
        assert build["entrypoint"] == entrypoint


def test_tilt_forwards_every_service_port_and_waits_for_the_databases() -> None:
    # arrange / act
    resources = {c["workload"]: c for c in tilt_calls()["k8s_resource"]}
    forwards = {f for c in resources.values() for f in c["port_forwards"]}
    # assert
    assert forwards == {"8080:8080", "8082:8082", "8083:8083", "9900:9900"}
    for name in ("algo-trade-collector-0", "algo-trade-processor-0", "algo-trade-trader"):
        assert {"algo-trade-mongodb", "algo-trade-redis"} <= set(resources[name]["resource_deps"])
    assert "algo-trade-exchange-sim" in resources["algo-trade-collector-0"]["resource_deps"]
    assert (ROOT / "k8s" / "create-secrets.sh").is_file()
