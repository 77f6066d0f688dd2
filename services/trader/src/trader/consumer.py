"""The trader's consumer name in group ``trader``: one stable name per pod.

A stable name lets a restarted pod re-read its own unacknowledged entries at once (instead of
waiting ``claim_idle_ms`` for another replica to XAUTOCLAIM them). Kubernetes gives every pod a
unique name (``POD_NAME`` from the downward API, and ``HOSTNAME``), so two replicas never share one.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def consumer_name(configured: str, env: Mapping[str, str] | None = None) -> str:
    """``TRADER_CONSUMER_NAME`` if set, else ``POD_NAME``, else ``HOSTNAME``, else the host name."""
    environ = os.environ if env is None else env
    for candidate in (configured, environ.get("POD_NAME", ""), environ.get("HOSTNAME", "")):
        if candidate.strip():
            return candidate.strip()
    return socket.gethostname()
