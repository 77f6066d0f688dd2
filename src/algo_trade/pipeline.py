"""The whole pipeline on one machine: servers, exchange simulator, collector, processor, trader.

Redis and MongoDB: the configured addresses when something answers there, else servers started
here (``servers.py``). The simulator is the default market; ``live`` connects the collector to
Binance's public market streams instead (the trader stays on the paper exchange either way).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, cast

import httpx
from pymongo import DESCENDING, MongoClient
from pymongo.errors import PyMongoError
from redis import Redis
from redis.exceptions import RedisError

from algo_common.binance.urls import PRODUCTION_REST, PRODUCTION_WS
from algo_common.collections import INDEXES
from algo_common.mongo import CODEC_OPTIONS
from algo_common.streams import decode_market_event, market_stream
from algo_trade.processes import ServiceProcess
from algo_trade.servers import LocalServer, free_port, mongo_server, redis_server, wait_until

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_MONGO_URI = "mongodb://127.0.0.1:27017/?replicaSet=rs0"
SERVICE_PORTS = {"collector": 8080, "processor": 8082, "trader": 8083}


@dataclass(frozen=True)
class PipelineOptions:
    """What ``algo-trade up`` runs; the defaults make signals appear within about a minute."""

    workdir: Path
    live: bool = False
    symbols: tuple[str, ...] = ("BTCUSDT",)
    interval: str = "1m"
    fast: int = 5
    slow: int = 20
    sim_rate: float = 10.0
    sim_steps_per_bar: int = 10
    sim_seed: int = 2  # a walk that crosses SMA 5/20 within its first 25 bars
    order_quantity: str = "0.01"
    mongo_db: str = "btc_data"
    redis_url: str | None = None
    mongo_uri: str | None = None
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """More environment per process name (``exchange-sim``, ``collector``, ...), applied last."""


@dataclass
class Pipeline:
    options: PipelineOptions
    redis_url: str = ""
    mongo_uri: str = ""
    servers: list[LocalServer] = field(default_factory=list)
    processes: list[ServiceProcess] = field(default_factory=list)
    sim_url: str = ""

    def start(self) -> None:
        self.redis_url = self._redis()
        self.mongo_uri = self._mongo()
        prepare_database(self.mongo_uri, self.options.mongo_db)
        if not self.options.live:
            self._start_simulator()
        for name in ("collector", "processor", "trader"):
            process = self._service(name)
            process.start()
            self.processes.append(process)

    def stop(self, grace_s: float = 15.0) -> None:
        """Services first (they drain), then the simulator, then the servers this pipeline started."""
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            process.wait(grace_s)
        for server in reversed(self.servers):
            server.stop()

    def service_ports(self) -> dict[str, int]:
        return {p.name: int(p.env[f"{p.name.upper()}_HTTP_PORT"]) for p in self.processes if p.name in SERVICE_PORTS}

    def _redis(self) -> str:
        url = self.options.redis_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
        if _redis_answers(url):
            return url
        server = redis_server(self.options.workdir / "data" / "redis")
        server.start()
        self.servers.append(server)
        return server.url

    def _mongo(self) -> str:
        uri = self.options.mongo_uri or os.environ.get("MONGO_URI") or DEFAULT_MONGO_URI
        if _mongo_answers(uri):
            return uri
        server = mongo_server(self.options.workdir / "data" / "mongo")
        server.start()
        self.servers.append(server)
        return server.url

    def _start_simulator(self) -> None:
        port = free_port()
        o = self.options
        process = ServiceProcess(
            name="exchange-sim",
            module="exchange_sim",
            env={
                "SIM_HOST": "127.0.0.1",
                "SIM_PORT": str(port),
                "SIM_SYMBOLS": ",".join(o.symbols),
                "SIM_MODE": "walk",
                "SIM_SEED": str(o.sim_seed),
                "SIM_RATE": str(o.sim_rate),
                "SIM_STEPS_PER_BAR": str(o.sim_steps_per_bar),
            },
            log_path=o.workdir / "logs" / "exchange-sim.log",
        )
        process.env |= self._continue_market()
        process.env |= o.extra_env.get("exchange-sim", {})
        process.start()
        self.processes.append(process)
        self.sim_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _http_ok(f"{self.sim_url}/api/v3/ping"), 30, "the exchange simulator")

    def _continue_market(self) -> dict[str, str]:
        """Start the simulated market after every time either store has seen, so a second ``up``
        continues the first one's timeline (warm-up meaningful, no bar or signal id reused) instead
        of replaying the same simulated times into records that already exist."""
        o = self.options
        start_ms, last_close = time.time_ns() // 1_000_000, None
        try:
            with MongoClient[dict[str, Any]](self.mongo_uri, serverSelectionTimeoutMS=2000) as client:
                last = client.get_database(o.mongo_db, codec_options=CODEC_OPTIONS).klines.find_one(
                    {"symbol": o.symbols[0], "interval": "1m"}, sort=[("open_time", DESCENDING)]
                )
            if last is not None:
                start_ms, last_close = max(start_ms, int(last["close_time"]) + 1), last["close"]
            for symbol in o.symbols:
                newest = cast(
                    list[tuple[bytes, dict[bytes, bytes]]],
                    self._redis_client().xrevrange(market_stream(symbol), count=1),
                )
                if newest and b"event" in newest[0][1]:
                    start_ms = max(start_ms, decode_market_event(newest[0][1][b"event"]).ts_event + 60_000)
        except (PyMongoError, RedisError):
            pass
        env = {"SIM_START_TIME_MS": str(start_ms)}
        if last_close is not None:
            env["SIM_START_PRICE"] = str(last_close)
        return env

    def _redis_client(self) -> Redis:
        return Redis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)

    def _service(self, name: str) -> ServiceProcess:
        o = self.options
        prefix = name.upper()
        env = {
            f"{prefix}_REDIS_URL": self.redis_url,
            f"{prefix}_MONGO_URI": self.mongo_uri,
            f"{prefix}_MONGO_DB": o.mongo_db,
            f"{prefix}_HTTP_HOST": "127.0.0.1",
            f"{prefix}_HTTP_PORT": str(_port_or_free(SERVICE_PORTS[name])),
            f"{prefix}_SYMBOLS": ",".join(o.symbols),
        }
        if name == "collector":
            ws, rest = (
                (PRODUCTION_WS, PRODUCTION_REST) if o.live else (self.sim_url.replace("http", "ws"), self.sim_url)
            )
            env |= {"COLLECTOR_WS_BASE_URL": ws, "COLLECTOR_REST_BASE_URL": rest}
        elif name == "processor":
            env |= {
                "PROCESSOR_REST_BASE_URL": PRODUCTION_REST if o.live else self.sim_url,  # the warm-up backfill
                "PROCESSOR_INTERVAL": o.interval,
                "PROCESSOR_FAST_PERIOD": str(o.fast),
                "PROCESSOR_SLOW_PERIOD": str(o.slow),
                "PROCESSOR_ORDER_QUANTITY": o.order_quantity,
            }
        env |= o.extra_env.get(name, {})
        return ServiceProcess(name, name, env, o.workdir / "logs" / f"{name}.log")


def prepare_database(mongo_uri: str, db_name: str) -> None:
    """Create every collection and its indexes before any service starts.

    The services create them too (idempotently), but doing it once up front means no two
    processes race to create the same collection, which SecantusDB, the MongoDB-compatible test
    server, does not survive (its server hangs); a real MongoDB would not mind either way.
    """
    with MongoClient[dict[str, Any]](mongo_uri, serverSelectionTimeoutMS=5000) as client:
        db = client.get_database(db_name)
        existing = set(db.list_collection_names())
        for name, indexes in INDEXES.items():
            if name not in existing:
                db.create_collection(name)
            if indexes:
                db[name].create_indexes(indexes)


def _port_or_free(preferred: int) -> int:
    """The documented port when it is free, so the usual URLs work; else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


def _redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
    except (RedisError, ValueError):
        return False


def _mongo_answers(uri: str) -> bool:
    try:
        with MongoClient[dict[str, object]](uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500) as client:
            return bool(client.admin.command("ping").get("ok"))
    except PyMongoError:
        return False


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def wait_healthy(pipeline: Pipeline, timeout_s: float) -> None:
    """Block until every service answers 200 on /healthcheck."""
    ports = pipeline.service_ports()
    deadline = time.monotonic() + timeout_s
    for name, port in ports.items():
        url = f"http://127.0.0.1:{port}/healthcheck"
        wait_until(partial(_http_ok, url), max(0.1, deadline - time.monotonic()), f"{name} readiness")
