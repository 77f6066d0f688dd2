"""Which collector replica owns which symbol: rendezvous hashing, in one place.

Replica ``i`` of ``n`` owns the symbols whose highest ``blake2b(symbol, replica)`` score is its own.
The hash is stable across processes and machines (unlike Python's ``hash``), so every replica and
the deployment agree without talking; going from ``n`` to ``n + 1`` replicas moves only the
symbols the new replica wins (about ``1 / (n + 1)`` of them), and no symbol ever has two owners.
``python -m collector.shards --count 3 BTCUSDT ETHUSDT ...`` prints the shard lists as JSON, in
the shape of the Helm chart's ``shards`` value.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterable


def _score(symbol: str, replica: int) -> int:
    digest = hashlib.blake2b(f"{symbol.upper()}|{replica}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of(symbol: str, count: int) -> int:
    """The replica (0..count-1) that owns ``symbol``."""
    if count < 1:
        raise ValueError("shard count must be >= 1")
    return max(range(count), key=lambda replica: _score(symbol, replica))


def owned(symbols: Iterable[str], index: int, count: int) -> tuple[str, ...]:
    """The symbols replica ``index`` of ``count`` owns, in their given order."""
    if not 0 <= index < count:
        raise ValueError(f"shard index {index} is not in 0..{count - 1}")
    return tuple(symbol for symbol in symbols if shard_of(symbol, count) == index)


def plan(symbols: Iterable[str], count: int) -> list[list[str]]:
    """Every replica's symbols: ``plan(...)[i] == list(owned(symbols, i, count))``."""
    names = list(symbols)
    return [list(owned(names, index, count)) for index in range(count)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print collector symbol shards (Helm `shards` value) as JSON.")
    parser.add_argument("--count", type=int, required=True, help="number of collector replicas")
    parser.add_argument("symbols", nargs="+", help="symbols, e.g. BTCUSDT ETHUSDT")
    args = parser.parse_args(argv)
    print(json.dumps(plan([s.upper() for s in args.symbols], args.count)))


if __name__ == "__main__":
    main()
