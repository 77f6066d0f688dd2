"""Lua scripts run by their SHA1 (EVALSHA), so the script text is not sent and hashed on every call.

A server that does not know the script yet (first call, restart, SCRIPT FLUSH) answers NOSCRIPT;
the script is then sent once with EVAL, which also caches it there.
"""

from __future__ import annotations

import hashlib
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError


class LuaScript:
    """One script's text and SHA1; :meth:`run` works with any client (the script is not bound to one)."""

    __slots__ = ("sha", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    async def run(self, redis: aioredis.Redis, numkeys: int, *keys_and_args: Any) -> Any:
        """EVALSHA, or EVAL once where the server has not cached the script."""
        try:
            return await redis.evalsha(self.sha, numkeys, *keys_and_args)
        except NoScriptError:
            return await redis.eval(self.text, numkeys, *keys_and_args)
