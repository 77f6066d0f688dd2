"""``python -m processor``: settings from PROCESSOR_* variables, JSON logs, run until SIGTERM."""

from __future__ import annotations

import asyncio

from algo_common.logging import configure_logging
from algo_common.settings import load_settings
from processor.service import run
from processor.settings import ProcessorSettings


def main() -> None:
    settings = load_settings(ProcessorSettings)
    configure_logging("processor", settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
