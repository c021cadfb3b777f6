"""Where the emulator's CPU work runs: image decoding, vision and index-file parsing, on one thread per CPU.

More threads than CPUs only contend for the GIL (the pure-Python parts of vision hold it). Measured with
`bench/index_wall_time.py --lines 3000` on 2 CPUs: 2 threads indexed 190 documents/s at 7.0 ms of CPU per
document, asyncio's default pool (6 threads here) 160/s at 8.0 ms. Blocking store calls stay on asyncio's
default pool, so a queue of images never delays a SQLite read.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="emulator-cpu")


async def run(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` on the CPU threads."""
    return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(fn, *args, **kwargs))
