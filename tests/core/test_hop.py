"""kefu.core.hop: the worker-thread hop of the hot inbound endpoint."""

from __future__ import annotations

import asyncio
import threading
from contextvars import ContextVar

import pytest

from kefu.core import hop

_who: ContextVar[str] = ContextVar("who", default="nobody")


def test_the_work_runs_in_a_worker_thread_with_the_callers_context_and_returns_its_result() -> None:
    def work(a: int, b: int) -> tuple[int, str, str]:
        return a + b, threading.current_thread().name, _who.get()

    async def main() -> tuple[int, str, str]:
        _who.set("gateway")
        return await hop.run(work, 2, 3)

    total, thread, who = asyncio.run(main())
    assert (total, who) == (5, "gateway")
    assert thread.startswith("kefu-hop")


def test_an_exception_of_the_work_is_raised_to_the_caller() -> None:
    class Refused(Exception):
        pass

    def work() -> None:
        raise Refused("no")

    with pytest.raises(Refused, match="no"):
        asyncio.run(hop.run(work))


def test_concurrent_calls_each_get_their_own_result() -> None:
    async def main() -> list[int]:
        return list(await asyncio.gather(*(hop.run(lambda i=i: i * i) for i in range(50))))

    assert asyncio.run(main()) == [i * i for i in range(50)]
