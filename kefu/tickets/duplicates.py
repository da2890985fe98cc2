"""Possible duplicates of a ticket, scored by the pair score that matches a question to an FAQ.

A customer who reports the same fault by SMS and then on the hotline leaves two tickets; the agent
should merge them, not work both. Candidates are the open tickets the merge rules would accept
(`service.merge`): the same customer, a customer merged into it or one it was merged into; for a
ticket without a customer,
open tickets of the same category (or, without a category, of the same org unit) opened within
DUPLICATE_WINDOW. Each candidate's subject and description are compared with this ticket's by
`kefu.knowledge.text.score.match_scores` (the learned pair score, a probability that both texts ask
the same thing); those at or above the threshold (`duplicate_threshold`) are returned, best first.

The threshold is chosen on training question pairs for a stated precision (chosen by an administrator on
/console/knowledge/duplicates, seeing the precision and recall the training curve expects at each point;
else KEFU_DUPLICATE_PRECISION, default 0.65; the points are made by `kefu bench duplicates --write`, which
also reports precision, recall and AUC on held-out pairs); at most MAX_CANDIDATES candidates are scored
(newest first, within the caller's scope), which bounds the work to one embedding batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.auth import Principal
from kefu.customers import service as customers
from kefu.knowledge.text import embed, score, segment
from kefu.org import service as org
from kefu.tickets import lifecycle, service
from kefu.tickets.models import Ticket


def duplicate_threshold(session: Session) -> float:
    """The pair score a candidate needs: the shipped threshold for the precision chosen by an administrator
    on the console (kefu.knowledge.settings), else KEFU_DUPLICATE_PRECISION."""
    from kefu.knowledge import settings

    return settings.duplicate_threshold(session)

DUPLICATE_WINDOW = timedelta(days=7)
MAX_CANDIDATES = 50


@dataclass(frozen=True)
class PossibleDuplicate:
    ticket: Ticket
    score: float


def ticket_text(t: Ticket) -> str:
    """What a ticket asks: its subject and the start of its description."""
    text = " ".join(f"{t.subject} {t.description or ''}".split())
    return text[: segment.MAX_QUERY_CHARS]


def _candidates(session: Session, principal: Principal, t: Ticket) -> list[Ticket]:
    conds = [
        Ticket.id != t.id,
        Ticket.status.in_(lifecycle.OPEN_STATUSES),
        Ticket.org_unit_id.in_(org.visible_unit_ids(session, principal)),
    ]
    if t.customer_id is not None:
        conds.append(Ticket.customer_id.in_(customers.lineage_ids(session, t.customer_id)))
    else:
        conds.append(Ticket.opened_at >= t.opened_at - DUPLICATE_WINDOW)
        conds.append(Ticket.opened_at <= t.opened_at + DUPLICATE_WINDOW)
        if t.category_id is not None:
            conds.append(Ticket.category_id == t.category_id)
        else:
            conds.append(Ticket.org_unit_id == t.org_unit_id)
    if t.type in service.CLOCKED_TYPES:  # the merge rules keep a legal clock within its type
        conds.append(Ticket.type == t.type)
    return list(
        session.scalars(
            select(Ticket).where(*conds).order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(MAX_CANDIDATES)
        )
    )


def possible_duplicates(
    session: Session,
    principal: Principal,
    ticket: Ticket,
    *,
    threshold: float | None = None,
    limit: int = 5,
) -> list[PossibleDuplicate]:
    """Open tickets that probably report what ``ticket`` reports, best first (the caller has
    already checked that the principal sees ``ticket``)."""
    if not lifecycle.is_open(ticket.status):  # only an open ticket can still be merged
        return []
    others = _candidates(session, principal, ticket)
    text = ticket_text(ticket)
    if not others or not segment.normalize(text):
        return []
    threshold = duplicate_threshold(session) if threshold is None else threshold
    texts = [ticket_text(o) for o in others]
    emb = embed.get_embedder()
    vectors = emb.encode([text, *texts])
    probs = score.match_scores(text, vectors[0], texts, vectors[1:], embedder_name=emb.name)
    found = [PossibleDuplicate(o, round(float(p), 4)) for o, p in zip(others, probs, strict=True) if p >= threshold]
    found.sort(key=lambda d: (-d.score, -d.ticket.id))
    return found[:limit]
