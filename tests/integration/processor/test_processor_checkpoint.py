"""The checkpoint document: only a later bar replaces it, and its strategy state always belongs to its bar."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from processor.store import ProcessorStore, ResumePoint

KEY = "ema_rsi:BTCUSDT:1m"


async def test_a_late_or_repeated_write_never_moves_the_checkpoint_or_its_state_back(
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange
    store = ProcessorStore(mongo_db)
    await store.save_checkpoint(KEY, 200, 1, {"fast_value": "2"})
    # act: a replica whose lease expired writes an older bar, then the same bar again
    await store.save_checkpoint(KEY, 100, 2, {"fast_value": "1"})
    await store.save_checkpoint(KEY, 200, 3, {"fast_value": "stale"})
    # assert
    assert await store.load_resume_point(KEY) == ResumePoint(200, {"fast_value": "2"})


async def test_a_later_bar_replaces_time_and_state_together(mongo_db: AsyncDatabase[Document]) -> None:
    # arrange
    store = ProcessorStore(mongo_db)
    await store.save_checkpoint(KEY, 100, 1, {"fast_value": "1"})
    # act / assert
    await store.save_checkpoint(KEY, 300, 2, {"fast_value": "3"})
    assert await store.load_resume_point(KEY) == ResumePoint(300, {"fast_value": "3"})
    await store.save_checkpoint(KEY, 400, 3)  # no state: none is kept beside the new time
    assert await store.load_resume_point(KEY) == ResumePoint(400, None)
    assert await store.load_checkpoint(KEY) == 400
