"""Typed settings shared by every service; each service subclasses with its own env prefix.

A bad value stops start-up with a message naming the environment variable (:func:`load_settings`).
Secrets (URIs that may hold passwords, API keys) are ``SecretStr`` so they never reach a log line.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

S = TypeVar("S", bound="BaseServiceSettings")

_SYMBOL = re.compile(r"[A-Z0-9]{2,20}")


def split_comma_separated(value: object) -> object:
    """``"a, b,c"`` (or a JSON list) from an environment variable -> ``("a", "b", "c")``; other values pass."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _check_symbols(value: tuple[str, ...]) -> tuple[str, ...]:
    symbols = tuple(symbol.upper() for symbol in value)
    if not symbols:
        raise ValueError("at least one symbol is needed")
    bad = [symbol for symbol in symbols if not _SYMBOL.fullmatch(symbol)]
    if bad:
        raise ValueError(f"not a Binance symbol: {', '.join(bad)}")
    if len(set(symbols)) != len(symbols):
        raise ValueError("a symbol is listed twice")
    return symbols


CommaSeparated = Annotated[tuple[str, ...], NoDecode, BeforeValidator(split_comma_separated)]
"""A list setting written as one comma-separated environment variable."""

Symbols = Annotated[CommaSeparated, AfterValidator(_check_symbols)]
"""Binance symbols (``BTCUSDT,ETHUSDT``): upper-cased, at least one, none twice."""


class BaseServiceSettings(BaseSettings):
    """Connection, HTTP and observability settings every service has."""

    model_config = SettingsConfigDict(frozen=True, env_nested_delimiter="__", extra="ignore")

    redis_url: SecretStr = Field(
        default=SecretStr("redis://127.0.0.1:6379/0"),
        description="Redis URL (redis://[:password@]host:port/db); may hold a password, never logged.",
    )
    mongo_uri: SecretStr = Field(
        default=SecretStr("mongodb://127.0.0.1:27017/?replicaSet=rs0"),
        description="MongoDB URI of the replica set; may hold a password, never logged.",
    )
    mongo_db: str = Field(default="btc_data", min_length=1, description="MongoDB database name.")
    http_host: str = Field(default="0.0.0.0", description="Address of the health/metrics HTTP server.")  # noqa: S104
    http_port: int = Field(default=8080, ge=0, le=65535, description="Port of /healthcheck and /metrics.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Log level.")
    stream_maxlen: int = Field(
        default=100_000, ge=100, description="Approximate cap (XADD MAXLEN ~) of every stream this service writes."
    )
    shutdown_grace_s: float = Field(
        default=10.0, gt=0, le=300, description="Seconds in-flight work may take to finish after SIGTERM."
    )
    liveness_timeout_s: float = Field(
        default=30.0, gt=0, description="The process is not live when its main loop has not beaten for this long."
    )
    pyroscope_server_address: str | None = Field(
        default=None, description="Pyroscope server URL; continuous profiling is on only when this is set."
    )
    consumer_name: str = Field(
        default="",
        description="Consumer name in Redis consumer groups; defaults to the host name (the pod name in Kubernetes).",
    )


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment or exit with one line per bad variable."""
    try:
        return cls()
    except ValidationError as e:
        prefix = str(cls.model_config.get("env_prefix", ""))
        lines = [f"invalid configuration for {cls.__name__}:"]
        for error in e.errors():
            name = prefix + "__".join(str(part) for part in error["loc"]).upper()
            lines.append(f"  {name}: {error['msg']}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
