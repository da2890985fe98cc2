"""The scaled shape on this machine: PostgreSQL, Redis, API processes and workers, started as a unit.

`ScaledShape` starts (or reuses, when URLs are given) a PostgreSQL and a Redis of its own, upgrades the
schema, then `uvicorn kefu.asgi:app --workers N` and M `kefu worker` processes configured for the
scaled shape (KEFU_JOB_QUEUE=procrastinate, KEFU_REDIS_URL). Dead workers are started again by
`supervise()` (what systemd's Restart=always does on a server). Used by `kefu scaled` and by
`kefu bench faults`, which also kills and restarts its pieces on purpose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from kefu.bench.common import free_port, wait_serving
from kefu.scaled.local import PostgresCluster, RedisServer

WORKER_CMD = [sys.executable, "-c", "from kefu.cli import main; main()", "worker"]


class ScaledShape:
    def __init__(self, directory: Path, *, api: int = 2, workers: int = 2, concurrency: int = 4,
                 port: int | None = None, database: str = "kefu", pg_url: str | None = None,
                 redis_url: str | None = None, worker_imports: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.api_processes = api
        self.worker_count = workers
        self.concurrency = concurrency
        self.port = port or free_port()
        self.database = database
        self.worker_imports = worker_imports
        self.extra_env = env or {}
        self.pg: PostgresCluster | None = None if pg_url else PostgresCluster(directory / "pg")
        self.redis: RedisServer | None = None if redis_url else RedisServer()
        self._pg_url = pg_url
        self._redis_url = redis_url
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * workers
        self.restarts = 0
        self.logs = directory / "logs"

    # ---- addresses ----

    @property
    def database_url(self) -> str:
        if self._pg_url:
            return self._pg_url
        assert self.pg is not None
        return self.pg.url(self.database)

    @property
    def redis_url(self) -> str:
        if self._redis_url:
            return self._redis_url
        assert self.redis is not None
        return self.redis.url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {**os.environ, "KEFU_DATABASE_URL": self.database_url, "KEFU_REDIS_URL": self.redis_url,
                "KEFU_JOB_QUEUE": "procrastinate", "KEFU_DATA_DIR": str(self.directory / "data"),
                **self.extra_env}

    # ---- the whole ----

    def start(self, *, startup_seconds: float = 120.0) -> None:
        from kefu.core.migrate import upgrade

        self.logs.mkdir(parents=True, exist_ok=True)
        if self.pg is not None:
            self.pg.start()
            self.pg.create_database(self.database)
        if self.redis is not None:
            self.redis.start()
        upgrade(self.database_url)
        for i in range(self.worker_count):
            self.start_worker(i)
        self.start_api()
        self.wait_ready(startup_seconds)

    def stop(self) -> None:
        for i in range(len(self.workers)):
            self.stop_worker(i)
        if self.api is not None:
            _terminate(self.api)
            self.api = None
        if self.redis is not None:
            self.redis.remove()
        if self.pg is not None:
            self.pg.stop()

    def __enter__(self) -> ScaledShape:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- pieces ----

    def _log(self, name: str) -> IO[bytes]:
        return open(self.logs / f"{name}.log", "ab")

    def start_api(self) -> None:
        log = self._log("api")
        self.api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "kefu.asgi:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.api_processes), "--log-level", "warning", "--no-access-log"],
            env=self.environment(), stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def start_worker(self, i: int) -> None:
        log = self._log(f"worker-{i + 1}")
        cmd = [*WORKER_CMD, "--concurrency", str(self.concurrency), "--name", f"worker-{i + 1}"]
        for module in self.worker_imports:
            cmd += ["--import", module]
        self.workers[i] = subprocess.Popen(cmd, env=self.environment(), stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill_worker(self, i: int) -> None:
        """SIGKILL, as a crash or the OOM killer would: no clean-up at all."""
        p = self.workers[i]
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)

    def stop_worker(self, i: int) -> None:
        p = self.workers[i]
        if p is not None:
            _terminate(p)
        self.workers[i] = None

    def supervise(self) -> list[int]:
        """Start again every worker that died (returns which); the API's own manager restarts its processes."""
        dead = [i for i, p in enumerate(self.workers) if p is not None and p.poll() is not None]
        for i in dead:
            self.start_worker(i)
            self.restarts += 1
        return dead

    def wait_ready(self, seconds: float) -> None:
        assert self.api is not None
        wait_serving(self.base_url, self.api, str(self.logs / "api.log"), seconds)
        if self.api_processes > 1:  # one process answered; let the others finish starting
            time.sleep(min(10.0, 2.0 * self.api_processes))

    def describe(self) -> list[str]:
        from kefu.bench.common import safe_url

        return [
            f"console and API  {self.base_url}/  ({self.api_processes} API processes behind one port)",
            f"workers          {self.worker_count} × `kefu worker --concurrency {self.concurrency}`",
            f"PostgreSQL       {safe_url(self.database_url)}",
            f"Redis            {self.redis_url}",
            f"logs             {self.logs}/",
        ]


def _terminate(p: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
