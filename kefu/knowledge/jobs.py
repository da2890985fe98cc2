"""The knowledge base's periodic jobs: expiring ended articles (campaigns) and rebuilding the index.

Declared here, run by the server's in-process runner (embedded) or by `kefu worker` (scaled out); the
`kefu knowledge expire | reindex` commands run the same work at once. Cron times are UTC.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.jobs import JobContext, job

log = logging.getLogger(__name__)


@job("knowledge.expire", queue="maintenance", cron="5 * * * *")
def expire(ctx: JobContext) -> None:
    """Hourly: take down published articles whose end date has passed (search hides them already)."""
    from kefu.knowledge import service

    ids = service.expire_due(ctx.session, at=ctx.now)
    if ids:
        log.info("expired %d article(s): %s", len(ids), ids)


@job("knowledge.reindex", queue="maintenance", cron="30 19 * * 6")  # Sunday 03:30 in China (UTC+8)
def reindex(ctx: JobContext) -> None:
    """Weekly: rebuild the full-text index and embeddings of every live article (a model or
    segmentation change reaches all of them even if nobody runs `kefu knowledge reindex`)."""
    log.info("reindexed %d article(s)", reindex_all(ctx.session, at=ctx.now))


def reindex_all(session: Session, *, at: datetime) -> int:
    """Index every live article's live version again; returns how many."""
    from kefu.knowledge import index, service
    from kefu.knowledge.models import Article

    n = 0
    for a in session.scalars(select(Article).where(Article.live_version.is_not(None))):
        index.index_version(session, a, service.get_version(session, a.id, a.live_version or 0), at=at)
        n += 1
    return n
