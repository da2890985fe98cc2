"""A cheaper hop from the event loop to a worker thread, for hot endpoints whose work is short and
blocking (a gateway's inbound post: a few SQL statements).

anyio's `to_thread.run_sync` (starlette's `run_in_threadpool`) hands each call over through a
`queue.Queue`, whose `put` notifies a Python-level `threading.Condition`, behind a capacity limiter and
a cancel scope: measured with py-spy on `kefu bench ingest`, that hand-off held the GIL for ~10 % of the
server process's samples while posting. Here the call goes to the standard library's thread pool
(`concurrent.futures.ThreadPoolExecutor`, whose work queue is a C `SimpleQueue`) through the loop's
`run_in_executor`, and runs in a copy of the caller's context (context variables, as with anyio). A
cancelled caller (a client that went away) stops waiting; the work it handed over still runs to its end
(its transaction commits or rolls back whole), as with anyio's hop.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")

THREADS = 16

_pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="kefu-hop")


async def run(fn: Callable[..., _T], *args: Any) -> _T:
    """`fn(*args)` in a worker thread; its result, or its exception raised here."""
    ctx = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_pool, functools.partial(ctx.run, fn, *args))
