"""A cheaper hop from the event loop to a worker thread, for hot endpoints whose work is short and
blocking (a gateway's inbound post: a few SQL statements).

anyio's `to_thread.run_sync` (starlette's `run_in_threadpool`) hands each call over through a
`queue.Queue`, whose `put` notifies a Python-level `threading.Condition`, behind a capacity limiter and
a cancel scope: measured with py-spy on `kefu bench ingest`, that notify alone held the GIL for ~10 %
of the server process's samples while posting. Here the call goes through a `queue.SimpleQueue` (C,
no Python lock) to a fixed set of daemon threads, and comes back as the loop's own future, resolved
with `call_soon_threadsafe`. The work runs in a copy of the caller's context (context variables, as
with anyio). A cancelled caller (a client that went away) stops waiting; the work it handed over still
runs to its end (its transaction commits or rolls back whole), as with anyio's hop.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

THREADS = 16

_work: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
_started = False
_start_lock = threading.Lock()


def _resolve(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.cancelled():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


def _worker() -> None:
    while True:
        item = _work.get()
        if item is None:
            return
        loop, fut, ctx, fn, args = item
        item = None
        try:
            result = ctx.run(fn, *args)
        except BaseException as exc:  # handed to the awaiting coroutine, which raises it
            loop.call_soon_threadsafe(_resolve, fut, None, exc)
        else:
            loop.call_soon_threadsafe(_resolve, fut, result, None)
        # drop the references before waiting for the next call
        loop = fut = ctx = fn = args = result = None


def _start() -> None:
    global _started
    with _start_lock:
        if _started:
            return
        for i in range(THREADS):
            threading.Thread(target=_worker, name=f"kefu-hop-{i}", daemon=True).start()
        _started = True


async def run(fn: Callable[..., _T], *args: Any) -> _T:
    """`fn(*args)` in a worker thread; its result, or its exception raised here."""
    if not _started:
        _start()
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()
    _work.put((loop, fut, contextvars.copy_context(), fn, args))
    return await fut
