"""Peak memory of 32 parallel anonymous logins, with the hashing bound and without it (the reference).

Each run is a fresh process (peak RSS, VmHWM, only grows) with the real Argon2 parameters (64 MiB a
hash), a migrated SQLite database and 32 threads posting logins for unknown names at once:

    python benchmarks/login_memory.py [--parallel 32]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, threading, time
from pathlib import Path
from fastapi.testclient import TestClient
from kefu.app import create_app
from kefu.core.config import Settings
from kefu.core.db import Database
from kefu.core.migrate import upgrade

def hwm():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

folder, slots, parallel = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
url = f"sqlite:///{folder / 'kefu.sqlite3'}"
upgrade(url)
settings = Settings(env="test", data_dir=folder, database_url=url, password_hash_concurrency=slots,
                    password_hash_wait_seconds=60, login_per_ip_per_minute=10_000, login_max_failures=10_000)
app = create_app(settings, Database(url), start_dispatcher=False)
codes = []
with TestClient(app) as client:
    client.post("/api/v1/auth/login", json={"username": "warm-up", "password": "x"})
    base = hwm()
    start = threading.Barrier(parallel)
    def one(i):
        start.wait()
        codes.append(client.post("/api/v1/auth/login", json={"username": f"nobody{i}", "password": "x"}).status_code)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(parallel)]
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.perf_counter() - t0
print(json.dumps({"base_mib": base, "peak_mib": hwm(), "seconds": elapsed, "codes": sorted(set(codes))}))
"""


def run(slots: int, parallel: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, tmp, str(slots), str(parallel)], capture_output=True,
                             text=True, check=True, cwd=Path(__file__).resolve().parents[1])
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parallel", type=int, default=32)
    parser.add_argument("--slots", type=int, default=2, help="KEFU_PASSWORD_HASH_CONCURRENCY")
    args = parser.parse_args()
    t0 = time.perf_counter()
    reference = run(args.parallel, args.parallel)  # as good as unbounded: every login hashes at once
    bounded = run(args.slots, args.parallel)
    for name, r in (("unbounded (reference)", reference), (f"bounded to {args.slots}", bounded)):
        print(f"{name:>24}: hashing adds {r['peak_mib'] - r['base_mib']:7.0f} MiB "
              f"(peak {r['peak_mib']:.0f} MiB), {args.parallel} logins in {r['seconds']:.2f} s, "
              f"answers {r['codes']}")
    ratio = (bounded["peak_mib"] - bounded["base_mib"]) / max(reference["peak_mib"] - reference["base_mib"], 1)
    print(f"memory added by hashing, bounded / unbounded: {ratio:.2f}; "
          f"time ratio {bounded['seconds'] / reference['seconds']:.2f} ({time.perf_counter() - t0:.0f} s in all)")


if __name__ == "__main__":
    main()
