"""Configuration the chart gives the services: real setting names, valid values, secrets only from Secrets."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from collector.settings import CollectorSettings
from exchange_sim.settings import SimSettings
from processor.settings import ProcessorSettings
from tests.deploy.chart import PIPELINE, VALUES_FILES, Rendered, RenderError, render, render_text
from trader.settings import TraderSettings

VALUES = pytest.mark.parametrize("values", list(VALUES_FILES.values()), ids=list(VALUES_FILES))
SETTINGS: dict[str, type[BaseSettings]] = {
    "collector": CollectorSettings,
    "processor": ProcessorSettings,
    "trader": TraderSettings,
    "exchange-sim": SimSettings,
}
BINANCE_KEYS = {"TRADER_BINANCE_API_KEY", "TRADER_BINANCE_API_SECRET", "TRADER_BINANCE_PRIVATE_KEY"}
"""Mounted by the chart from trader.binance.existingSecret for the trader's Binance venue (issue 7); checked
against the venue's settings by test_binance_keys_are_settings_of_the_binance_venue, so the general test
below does not depend on the order in which the chart and the venue land."""
PENDING = BINANCE_KEYS
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|AUTH|KEYFILE|REDIS_URL|MONGO_URI)$")
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]*:[^/@\s]+@")


def _service_env(rendered: Rendered) -> dict[str, tuple[str, dict[str, str], set[str]]]:
    """container name -> (component, plain env, names set from Secrets or the downward API)."""
    result = {}
    for container in rendered.containers(init=False):
        if container.component in PIPELINE:
            plain, refs = rendered.environment(container)
            result[container.name] = (container.component, plain, set(refs))
    return result


@VALUES
def test_every_variable_the_chart_sets_is_a_setting_of_its_service(values: Path | None) -> None:
    # arrange
    services = _service_env(render(values, "trader.binance.existingSecret=binance-keys"))
    # act
    unknown = {}
    for name, (component, plain, refs) in services.items():
        settings = SETTINGS[component]
        prefix = str(settings.model_config.get("env_prefix", ""))
        known = {prefix + field.upper() for field in settings.model_fields}
        unknown[name] = sorted((set(plain) | refs) - known - PENDING)
    # assert
    assert services
    assert all(names == [] for names in unknown.values()), unknown


@VALUES
def test_every_service_starts_with_the_rendered_configuration(values: Path | None) -> None:
    # arrange: Secret and downward-API values replaced by what the cluster would put there
    services = _service_env(render(values))
    # act
    errors = {}
    for name, (component, plain, refs) in services.items():
        env = plain | {ref: _stand_in(ref) for ref in refs}
        prefix = str(SETTINGS[component].model_config.get("env_prefix", ""))
        with pytest.MonkeyPatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            try:
                settings = SETTINGS[component]()
            except ValidationError as e:
                errors[name] = str(e)
                continue
        # assert (per service): the port it listens on is the rendered one
        port = settings.model_dump().get("http_port", settings.model_dump().get("port"))
        assert str(port) == env.get(f"{prefix}HTTP_PORT", env.get("SIM_PORT")), name
    assert errors == {}


def _stand_in(name: str) -> str:
    if name.endswith("REDIS_URL"):
        return "redis://:pw@redis:6379/0"
    if name.endswith("MONGO_URI"):
        return "mongodb://u:pw@m-0.m:27017/?replicaSet=rs0"
    return "pod-0"


@VALUES
def test_no_password_or_key_is_plaintext_in_env_or_configmaps(values: Path | None) -> None:
    # arrange
    rendered = render(values, "trader.binance.existingSecret=binance-keys")
    secret_values = set(_generated(rendered).values())
    # act
    plaintext = []
    for container in rendered.containers():
        for entry in container.spec.get("env", []):
            value = entry.get("value")
            if value is not None and (
                SECRET_NAME.search(entry["name"]) or CREDENTIALS_IN_URL.search(value) or value in secret_values
            ):
                plaintext.append(f"{container.name}: {entry['name']}")
    for config_map in rendered.of_kind("ConfigMap"):
        for key, value in config_map.get("data", {}).items():
            if SECRET_NAME.search(key) or CREDENTIALS_IN_URL.search(value) or any(v in value for v in secret_values):
                plaintext.append(f"ConfigMap {config_map['metadata']['name']}: {key}")
    # assert
    assert len(secret_values) == 6
    assert plaintext == []


@VALUES
def test_connection_strings_and_api_keys_come_from_secrets(values: Path | None) -> None:
    # arrange
    rendered = render(values, "trader.binance.existingSecret=binance-keys")
    secrets = {s["metadata"]["name"] for s in rendered.of_kind("Secret")} | {"binance-keys"}
    # act
    refs: dict[str, dict[str, Any]] = {}
    for container in rendered.containers(init=False):
        _, from_refs = rendered.environment(container)
        refs |= {f"{container.name}:{n}": r for n, r in from_refs.items() if SECRET_NAME.search(n)}
    # assert
    assert any(name.endswith("TRADER_BINANCE_API_SECRET") for name in refs)
    assert sum(name.endswith(("REDIS_URL", "MONGO_URI")) for name in refs) >= 6
    for name, ref in refs.items():
        assert ref["secretKeyRef"]["name"] in secrets, name


def _generated(rendered: Rendered) -> dict[str, str]:
    return {
        f"{secret['metadata']['name']}/{key}": base64.b64decode(value).decode()
        for secret in rendered.of_kind("Secret")
        for key, value in secret["data"].items()
    }


def test_generated_credentials_are_random_long_and_kept_on_uninstall() -> None:
    # arrange / act: two installs (helm template cannot look up, so each render draws anew)
    first = render(None, "common.logLevel=INFO")
    second = render(None, "common.logLevel=DEBUG")
    a, b = _generated(first), _generated(second)
    # assert
    assert set(a) == {
        "algo-trade-mongodb/mongodb-root-password",
        "algo-trade-mongodb/mongodb-app-password",
        "algo-trade-mongodb/mongodb-keyfile",
        "algo-trade-mongodb/mongodb-uri",
        "algo-trade-redis/redis-password",
        "algo-trade-redis/redis-url",
    }
    for key in a:
        assert a[key] != b[key], f"{key} is a fixed value"
    for key in ("mongodb-root-password", "mongodb-app-password"):
        assert re.fullmatch(r"[A-Za-z0-9]{32}", a[f"algo-trade-mongodb/{key}"])
    assert re.fullmatch(r"[A-Za-z0-9]{756}", a["algo-trade-mongodb/mongodb-keyfile"])
    assert a["algo-trade-redis/redis-url"] == f"redis://:{a['algo-trade-redis/redis-password']}@algo-trade-redis:6379/0"
    app_password = a["algo-trade-mongodb/mongodb-app-password"]
    assert a["algo-trade-mongodb/mongodb-uri"].startswith(f"mongodb://algo-trade:{app_password}@")
    for secret in first.of_kind("Secret"):
        assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_existing_secrets_replace_the_generated_ones() -> None:
    # arrange / act
    rendered = render(None, "mongodb.auth.existingSecret=my-mongo", "redis.auth.existingSecret=my-redis")
    refs = {
        ref["secretKeyRef"]["name"]
        for container in rendered.containers()
        for ref in rendered.environment(container)[1].values()
        if "secretKeyRef" in ref
    }
    # assert
    assert rendered.of_kind("Secret") == []
    assert refs == {"my-mongo", "my-redis"}


def test_external_databases_come_from_their_secrets_only() -> None:
    # arrange / act
    rendered = render(
        None,
        "mongodb.enabled=false",
        "redis.enabled=false",
        "externalMongodb.existingSecret=ext-mongo",
        "externalRedis.existingSecret=ext-redis",
    )
    trader = next(c for c in rendered.containers() if c.component == "trader")
    _, refs = rendered.environment(trader)
    # assert
    assert rendered.workloads_of("mongodb") == rendered.workloads_of("redis") == []
    assert refs["TRADER_MONGO_URI"]["secretKeyRef"] == {"name": "ext-mongo", "key": "mongodb-uri"}
    assert refs["TRADER_REDIS_URL"]["secretKeyRef"] == {"name": "ext-redis", "key": "redis-url"}


def test_binance_keys_are_settings_of_the_binance_venue() -> None:
    # arrange
    pytest.importorskip("trader.venues.binance.settings", reason="the trader's Binance venue is not there yet")
    known = {"TRADER_" + field.upper() for field in TraderSettings.model_fields}
    # act / assert
    assert known >= BINANCE_KEYS


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ((), {"TRADER_BINANCE_API_KEY": "api-key", "TRADER_BINANCE_API_SECRET": "api-secret"}),
        (
            ("trader.binance.apiSecretKey=", "trader.binance.privateKeyKey=ed25519.pem"),
            {"TRADER_BINANCE_API_KEY": "api-key", "TRADER_BINANCE_PRIVATE_KEY": "ed25519.pem"},
        ),
    ],
    ids=["hmac", "ed25519"],
)
def test_binance_keys_come_only_from_the_named_secret(sets: tuple[str, ...], expected: dict[str, str]) -> None:
    # arrange / act
    rendered = render(None, "trader.binance.existingSecret=binance-keys", *sets)
    trader = next(c for c in rendered.containers() if c.component == "trader")
    _, refs = rendered.environment(trader)
    binance = {name: ref["secretKeyRef"] for name, ref in refs.items() if name.startswith("TRADER_BINANCE_")}
    # assert
    assert binance == {name: {"name": "binance-keys", "key": key} for name, key in expected.items()}


def test_without_a_named_secret_no_binance_key_is_mounted() -> None:
    # arrange / act
    rendered = render(None)
    trader = next(c for c in rendered.containers() if c.component == "trader")
    plain, refs = rendered.environment(trader)
    # assert
    assert not [name for name in {*plain, *refs} if name.startswith("TRADER_BINANCE_")]


@pytest.mark.parametrize("sets", [(), ("trader.binance.privateKeyKey=pem",)], ids=["neither", "both"])
def test_binance_needs_exactly_one_of_the_hmac_secret_or_the_private_key(sets: tuple[str, ...]) -> None:
    # arrange
    base: tuple[str, ...] = ("trader.binance.existingSecret=binance-keys",)
    if not sets:
        base += ("trader.binance.apiSecretKey=",)
    # act / assert
    with pytest.raises(RenderError, match="exactly one of apiSecretKey"):
        render_text(None, (*base, *sets))
