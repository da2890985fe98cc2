"""What the audit log costs a customer profile read: the same request with an audited reader (holds `pii`)
against one whose read is not audited (masked), in the same run, on SQLite or KEFU_DATABASE_URL.

    python benchmarks/audit_overhead.py [--requests 400]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    from kefu.app import create_app
    from kefu.core.config import Settings
    from kefu.core.db import Database
    from kefu.core.migrate import upgrade
    from kefu.org import service as org

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("KEFU_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'kefu.sqlite3'}"
        upgrade(url)
        db = Database(url)
        with db.unit_of_work() as s:
            g = org.create_org_unit(s, kind="group", code=f"BG{int(time.time())}", name="集团")
            tokens = {}
            for role in ("agent", "analyst"):
                u = org.create_user(s, username=f"bench_{role}_{g.id}", display_name=role, role=role,
                                    org_unit_id=g.id)
                tokens[role] = org.create_api_token(s, u.id, "bench")[0]
        app = create_app(Settings(env="test", data_dir=Path(tmp), database_url=url), db, start_dispatcher=False)
        with TestClient(app) as client:
            from kefu.customers import service as customers

            with db.unit_of_work() as s:
                cid = customers.create_customer(s, phone="13812345678", org_unit_id=g.id).id
            timings: dict[str, list[float]] = {"agent": [], "analyst": []}
            for _ in range(args.requests):  # interleaved, so both see the same machine
                for role in ("analyst", "agent"):
                    h = {"Authorization": f"Bearer {tokens[role]}"}
                    t0 = time.perf_counter()
                    assert client.get(f"/api/v1/customers/{cid}", headers=h).status_code == 200
                    timings[role].append(time.perf_counter() - t0)
        db.dispose()
    plain, audited = statistics.median(timings["analyst"]), statistics.median(timings["agent"])
    print(f"customer profile read, median of {args.requests} on {url.split(':')[0]}: "
          f"not audited {plain * 1000:.2f} ms, audited {audited * 1000:.2f} ms, ratio {audited / plain:.2f}")


if __name__ == "__main__":
    main()
