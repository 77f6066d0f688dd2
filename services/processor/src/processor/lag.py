"""Stream lag of the processor group: entries delivered but not acked plus entries not yet read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis


def group_backlog(groups: Sequence[Mapping[str, Any]], group: str) -> int | None:
    """``pending + lag`` of ``group`` from an XINFO GROUPS reply; None when unknown (no such group, lag unset)."""
    for info in groups:
        name = info.get("name")
        if (name.decode() if isinstance(name, bytes) else name) != group:
            continue
        pending, lag = info.get("pending"), info.get("lag")
        if not isinstance(pending, int) or not isinstance(lag, int):
            return None
        return pending + lag
    return None


async def stream_backlog(redis: aioredis.Redis, stream: str, group: str) -> int | None:
    groups: list[dict[str, Any]] = await redis.xinfo_groups(stream)
    return group_backlog(groups, group)
