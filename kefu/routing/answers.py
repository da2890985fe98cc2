"""Waiting, briefly, for the routing writer's answer to an agent's request (going available, accepting an
offer): the API's and the console's endpoints commit the request as a routing input and then wait here for
the writer to process it; past ANSWER_SECONDS they answer "pending" and the result follows on the live
stream."""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from kefu.core.db import Database
from kefu.routing.models import RoutingInput

ANSWER_SECONDS = 3.0


async def processed(db: Database, input_id: int) -> bool:
    """Wait until the routing writer has processed an input (True), or ANSWER_SECONDS passed (False)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_SECONDS

    def done() -> bool:
        with db.session() as s:
            row = s.get(RoutingInput, input_id)
            return row is not None and row.processed_at is not None

    while True:
        if await run_in_threadpool(done):
            return True
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
