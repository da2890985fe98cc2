"""What the benches share: a throwaway database, a live server on a free loopback port, percentiles.

Everything stays on this machine: the server listens on 127.0.0.1 only, the PostgreSQL database is
created for the run (`kefu_bench_<random>`) and dropped afterwards, the SQLite file lives in a
temporary directory that is removed.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_KINDS = ("sqlite", "postgres")


@contextmanager
def fresh_database(kind: str, *, pg_admin_url: str = PG_ADMIN_URL, migrate: bool = True) -> Iterator[str]:
    """A new, empty, migrated (unless `migrate=False`) database for one run; removed afterwards.
    Yields its URL."""
    from kefu.core.migrate import upgrade

    if kind == "sqlite":
        tmp = tempfile.mkdtemp(prefix="kefu_bench_")
        try:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            if migrate:
                upgrade(url)
            yield url
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    elif kind == "postgres":
        name = f"kefu_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(make_url(pg_admin_url), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
            try:
                if migrate:
                    upgrade(url)
                yield url
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()
    else:
        raise ValueError(f"unknown database kind '{kind}' (one of {', '.join(DB_KINDS)})")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: str

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its worker processes."""
        return tree_cpu_seconds(self.process.pid)


def postgres_cpu_seconds() -> float:
    """User + system CPU seconds used so far by the PostgreSQL server processes on this machine (those
    whose command is `postgres`), from /proc: the database's share of a bench. 0 where unreadable."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, _, rest = f.read().rpartition(")")
            if head.split("(", 1)[1] != "postgres":
                continue
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return total


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its live descendants, from /proc (0 where unavailable).

    A figure that does not depend on what else the machine runs, unlike wall-clock throughput.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, todo, seen = 0.0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


@contextmanager
def live_server(url: str, *, workers: int = 1, startup_seconds: float = 90.0) -> Iterator[Server]:
    """`uvicorn kefu.asgi:app` with `workers` processes on a free loopback port, over database `url`."""
    port = free_port()
    env = {**os.environ, "KEFU_DATABASE_URL": url, "KEFU_ENV": "development"}
    log = tempfile.NamedTemporaryFile(prefix="kefu_bench_server_", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "kefu.asgi:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        *server_flags(),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        took = wait_serving(base, proc, log.name, startup_seconds)
        if workers > 1:  # one worker answered; give the others as long again to finish starting
            time.sleep(min(30.0, took))
        yield Server(base, proc, log.name)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def server_flags() -> list[str]:
    """uvicorn's fast event loop and HTTP parser when they are installed (they are dependencies)."""
    import importlib.util

    flags = []
    if importlib.util.find_spec("uvloop") is not None:
        flags += ["--loop", "uvloop"]
    if importlib.util.find_spec("httptools") is not None:
        flags += ["--http", "httptools"]
    return flags


def wait_serving(base_url: str, proc: subprocess.Popen[bytes], log_name: str, seconds: float) -> float:
    """Wait until the server at `base_url` answers (401 on /api/v1/me); returns the seconds it took."""
    t0 = time.monotonic()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log_name}")
        try:
            if httpx.get(f"{base_url}/api/v1/me", timeout=2).status_code == 401:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        if time.monotonic() - t0 > seconds:
            raise RuntimeError(f"the server did not start within {seconds:.0f} s; see {log_name}")
        time.sleep(0.2)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) of already sorted values, by the nearest-rank method; 0 when empty."""
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
