"""`algo-trade up` (what `./dev up` runs): starts everything, shows what flows, Ctrl-C stops it all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from algo_trade.servers import wait_until


def _children(parent: int) -> list[int]:
    """Direct child processes, read from /proc (Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


def test_up_runs_the_pipeline_and_ctrl_c_stops_every_process_it_started(
    redis_url: str, mongo_uri: str, tmp_path: Path
) -> None:
    # arrange
    env = {**os.environ, "REDIS_URL": redis_url, "MONGO_URI": mongo_uri, "COLUMNS": "200"}
    command = [sys.executable, "-m", "algo_trade", "up", "--no-ui", "--workdir", str(tmp_path), "--sim-rate", "40"]
    up = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(up.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        # act: wait until it reports market events flowing with every service ready, then press Ctrl-C
        ready_and_flowing = re.compile(
            r"events/s=[1-9].* sma_fast=[0-9.]+ sma_slow=[0-9.]+ .*collector=ready processor=ready trader=ready"
        )

        def flowing() -> bool:
            return any(ready_and_flowing.search(line) for line in lines)

        try:
            wait_until(flowing, 120, "events flowing with all services ready")
        except TimeoutError as e:
            raise AssertionError(f"{e}; output:\n{''.join(lines[-20:])}") from e
        children = _children(up.pid)
        up.send_signal(signal.SIGINT)
        code = up.wait(60)
    finally:
        if up.poll() is None:  # a failed wait: stop it the way a user would, so it stops its children
            up.send_signal(signal.SIGINT)
            try:
                up.wait(60)
            except subprocess.TimeoutExpired:
                up.kill()
    reader.join(5)
    # assert
    output = "".join(lines)
    assert code == 0, output
    assert "every process this command started has exited" in output
    assert len(children) >= 4  # simulator, collector, processor, trader
    assert _pids_alive(children) == []
