"""Explicit Redis stream entry ids (``<ms>-<seq>``), chosen by the writer before the first attempt.

A retried XADD with ``*`` ids cannot tell whether the lost reply meant "written" or "not written",
and would write the event again. With the id fixed before the first attempt, a retry can look the
id up and skip what is already there. Requires one writer per stream (one collector per symbol).
"""

from __future__ import annotations

StreamId = tuple[int, int]
"""(milliseconds, sequence): compares like Redis compares entry ids."""


def format_id(entry_id: StreamId) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def parse_id(raw: bytes | str) -> StreamId:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class StreamIds:
    """Strictly increasing ids per stream, following the clock and never going back."""

    def __init__(self) -> None:
        self._last: dict[str, StreamId] = {}

    def next(self, stream: str, now_ms: int) -> StreamId:
        ms, seq = self._last.get(stream, (0, -1))
        entry_id = (now_ms, 0) if now_ms > ms else (ms, seq + 1)
        self._last[stream] = entry_id
        return entry_id

    def take(self, stream: str, now_ms: int, count: int) -> StreamId:
        """The first of ``count`` consecutive ids (same milliseconds, sequence +1 each): ``next`` ``count`` times."""
        ms, seq = self._last.get(stream, (0, -1))
        first = (now_ms, 0) if now_ms > ms else (ms, seq + 1)
        self._last[stream] = (first[0], first[1] + count - 1)
        return first

    def raise_floor(self, stream: str, floor: StreamId) -> None:
        """Ids of ``stream`` from now on are greater than ``floor`` (e.g. the stream's last id)."""
        if floor > self._last.get(stream, (0, -1)):
            self._last[stream] = floor
