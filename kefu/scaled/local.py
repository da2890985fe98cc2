"""Private PostgreSQL clusters and Redis servers on this machine, for `kefu scaled`, `kefu bench faults` and
the tests of the scaled shape.

Each one is ours alone: its own data directory, its own loopback port, started and stopped by us, so
that restarting it (a fault run) never touches the PostgreSQL or Redis that other people use. The
PostgreSQL binaries are Debian's (`/usr/lib/postgresql/<version>/bin`); as root they run as the
`postgres` user, as PostgreSQL requires. Redis keeps nothing on disk (`--save "" --appendonly no`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from kefu.bench.common import free_port

PG_ROOT = Path("/usr/lib/postgresql")


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries installed, or None."""
    found = sorted((p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


def redis_server_bin() -> str | None:
    return shutil.which("redis-server")


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _chown_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


class PostgresCluster:
    """`initdb` into `directory` (a new temporary one by default), then start/stop/restart on `port`."""

    def __init__(self, directory: Path | None = None, *, port: int | None = None) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError(f"no PostgreSQL server binaries under {PG_ROOT} (apt-get install postgresql)")
        self.bin = bin_dir
        self._own_dir = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="kefu_pg_"))
        self.port = port or free_port()
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"

    def _run(self, *args: str, timeout: float = 120) -> None:
        done = subprocess.run(_as_postgres([str(self.bin / args[0]), *args[1:]]), timeout=timeout,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}"
                               f" (log: {self.log})")

    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        _chown_postgres(self.directory)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.directory}'\nmax_connections = 300\n"
                "shared_buffers = 128MB\nfsync = on\nsynchronous_commit = on\n"
            )

    @property
    def running(self) -> bool:
        if not self.initialised:
            return False
        done = subprocess.run(_as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return done.returncode == 0

    def start(self) -> None:
        if not self.initialised:
            self.init()
        elif self.running:
            return
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", f"-p {self.port}", "-w", "-t", "60",
                  "start")

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", f"-p {self.port}", "-m", mode, "-w",
                  "-t", "60", "restart")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text

        eng = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with eng.connect() as c:
                exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
                if not exists:
                    c.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            eng.dispose()
        return self.url(name)

    def remove(self) -> None:
        """Stop and delete the cluster (only a directory we made ourselves)."""
        self.stop("immediate")
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class RedisServer:
    """`redis-server` on a loopback port, nothing on disk."""

    def __init__(self, *, port: int | None = None) -> None:
        binary = redis_server_bin()
        if binary is None:
            raise RuntimeError("no redis-server on PATH (apt-get install redis-server)")
        self.binary = binary
        self.port = port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="kefu_redis_"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 20) -> None:
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the server holds it
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start; see {self.directory / 'redis.log'}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Kill it (SIGKILL, as a crash would): everything it held is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
