"""The items of several connection supervisors as one sequence, each tagged with its connection.

With one connection its items pass straight through (no task, no queue: the common case costs
nothing). With several, one task per supervisor reads its connection into a bounded queue, so a
slow consumer holds every reader back instead of growing memory; each connection's own order is
kept, which is all the books need (a symbol's streams all ride one connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

from collector.ws_client import WsItem, WsSupervisor

Tagged = tuple[int, WsItem]
"""(index of the connection in the plan, item)."""


async def merged_items(
    supervisors: Sequence[WsSupervisor], stop: asyncio.Event, buffer: int = 10_000
) -> AsyncGenerator[Tagged]:
    """Every supervisor's items until ``stop``; a reader's error ends the whole sequence with it."""
    if len(supervisors) == 1:
        async with aclosing(supervisors[0].items(stop)) as items:
            async for item in items:
                yield 0, item
        return
    queue: asyncio.Queue[Tagged] = asyncio.Queue(buffer)

    async def pump(index: int, supervisor: WsSupervisor) -> None:
        async with aclosing(supervisor.items(stop)) as items:
            async for item in items:
                await queue.put((index, item))

    readers = {asyncio.create_task(pump(i, s), name=f"ws-{i}") for i, s in enumerate(supervisors)}
    running = set(readers)
    try:
        while running or not queue.empty():
            while not queue.empty():
                yield queue.get_nowait()
            if not running:
                break
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, *running}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield getter.result()
            else:
                getter.cancel()  # nothing was taken: Queue.get removes an item only when it returns
            for reader in done - {getter}:
                running.discard(reader)
                reader.result()  # a reader that failed raises here
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
