"""A small HTTP/1.1 load generator for the benches: keep-alive connections on asyncio, in a process of its own.

Why not httpx in threads: on a 2-core machine the client competes with the server it measures, and a
Python HTTP client library costs about as much CPU per request as the server's work. This client writes
pre-built request bytes and reads a status line, headers and a Content-Length body: about 50 µs of CPU
a request. It runs in a child process (`python -m kefu.bench.load`) so that its CPU and its GIL are its
own, and it reports what it saw: per-request latency and status.

`Post` streams come from a factory function named by import path with JSON arguments, so the child
builds the same traffic the caller describes.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Post:
    path: str
    body: bytes


@dataclass
class LoadResult:
    sent: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu_s: float = 0.0


def _request(host: str, port: int, token: str, post: Post) -> bytes:
    head = (f"POST {post.path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(post.body)}\r\n\r\n")
    return head.encode() + post.body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _connection(host: str, port: int, token: str, posts: Iterator[Post], deadline: float,
                      result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for post in posts:
            if time.monotonic() > deadline:
                return
            t0 = time.perf_counter()
            try:
                writer.write(_request(host, port, token, post))
                await writer.drain()
                status, body = await _read_response(reader)
                code = str(status)
                if status >= 300 and len(result.first_errors) < 5:
                    result.first_errors.append(f"{post.path} {status}: {body[:200]!r}")
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                code = type(exc).__name__
                if len(result.first_errors) < 5:
                    result.first_errors.append(f"{post.path}: {exc!r}")
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.statuses[code] += 1
            result.sent += 1
    finally:
        writer.close()


async def _run(host: str, port: int, token: str, streams: list[Iterator[Post]], seconds: float) -> LoadResult:
    result = LoadResult()
    cpu0, t0 = time.process_time(), time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_connection(host, port, token, s, deadline, result) for s in streams))
    result.seconds = time.perf_counter() - t0
    result.client_cpu_s = time.process_time() - cpu0
    return result


def _main() -> None:
    """`python -m kefu.bench.load '<json>'`: run the load the JSON describes; write the result as JSON to
    the file the spec names (`out`)."""
    spec = json.loads(sys.argv[1])
    module, _, name = spec["factory"].rpartition(".")
    make: Callable[..., list[Iterator[Post]]] = getattr(importlib.import_module(module), name)
    streams = make(connections=spec["connections"], **spec["args"])
    try:
        import uvloop

        runner: Callable[..., LoadResult] = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio works too
        runner = asyncio.run
    result = runner(_run(spec["host"], spec["port"], spec["token"], streams, spec["seconds"]))
    # to a file, not stdout: a pipe took the ~200 KB line only in part once (cut at 128 KiB), so the bench
    # failed to read it after the whole run
    Path(spec["out"]).write_text(json.dumps({
        "sent": result.sent, "statuses": dict(result.statuses), "latencies_ms": result.latencies_ms,
        "first_errors": result.first_errors, "seconds": result.seconds, "client_cpu_s": result.client_cpu_s}))


def run_load(host: str, port: int, token: str, *, factory: str, args: dict[str, Any], connections: int,
             seconds: float) -> LoadResult:
    """Post the streams `factory(connections=..., **args)` makes (one per connection) until they end or
    `seconds` pass, from a child process; returns what it measured."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "load.json"
        spec = {"host": host, "port": port, "token": token, "factory": factory, "args": args,
                "connections": connections, "seconds": seconds, "out": str(out)}
        proc = subprocess.run([sys.executable, "-m", "kefu.bench.load", json.dumps(spec)], capture_output=True,
                              text=True, timeout=seconds + 300)
        if proc.returncode != 0:
            raise RuntimeError(f"the load generator failed ({proc.returncode}): {proc.stderr[-2000:]}")
        data = json.loads(out.read_text())
    return LoadResult(sent=data["sent"], statuses=Counter(data["statuses"]), latencies_ms=data["latencies_ms"],
                      first_errors=data["first_errors"], seconds=data["seconds"],
                      client_cpu_s=data["client_cpu_s"])


if __name__ == "__main__":
    _main()
