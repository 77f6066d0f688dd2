"""``python -m trader.control``: the operator's switch for the shared trading state.

    python -m trader.control status
    python -m trader.control halt --reason "exchange incident"      # no new orders at all
    python -m trader.control reducing --reason "end of quarter"     # only position-reducing orders
    python -m trader.control active --reason "incident closed"

It writes the Redis key every trader replica reads once per signal (``trader:trading_state``),
using the trader's own settings (``TRADER_REDIS_URL``), so in Kubernetes it runs inside a trader
pod: ``kubectl exec deploy/trader -- python -m trader.control halt --reason "..."``. Access is
therefore exactly who may exec into the trader pods (RBAC), with no network endpoint to protect.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from algo_common import redis_client
from algo_common.clock import now_ms
from algo_common.settings import load_settings
from trader.settings import TraderSettings
from trader.trading_state import StateRecord, TradingState, TradingStateStore

COMMANDS = {"active": TradingState.ACTIVE, "reducing": TradingState.REDUCING, "halt": TradingState.HALTED}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m trader.control", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["status", *COMMANDS])
    parser.add_argument("--reason", default="", help="why (kept with the state; required to change it)")
    parser.add_argument("--by", default="", help="who (default: the OS user)")
    args = parser.parse_args(argv)
    if args.command != "status" and not args.reason.strip():
        parser.error("--reason is required to change the trading state")
    return args


async def run(args: argparse.Namespace, store: TradingStateStore) -> StateRecord:
    """Apply the command; the state in force afterwards."""
    if args.command != "status":
        record = StateRecord(
            state=COMMANDS[args.command], reason=args.reason.strip(), by=args.by or getpass.getuser(), ts=now_ms()
        )
        await store.write(record)
    return await store.read()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = load_settings(TraderSettings)

    async def _main() -> StateRecord:
        redis = redis_client.create_redis(settings.redis_url.get_secret_value())
        try:
            return await run(args, TradingStateStore(redis))
        finally:
            await redis.aclose()

    record = asyncio.run(_main())
    print(f"trading state: {record.state} (reason: {record.reason or '-'}; by: {record.by or '-'}; ts: {record.ts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
