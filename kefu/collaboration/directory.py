"""The expert directory (专家目录): every member of an active expert team, by domain and region, with their load
and availability.

- load: the live consults (open or answered) addressed to them by name or to a team they belong to;
- availability: their presence as routing knows it (kefu.routing.service.agent_status: available,
  after_call_work, break, not_ready, offline).

`order` (pure) puts the available first, then the least loaded, then by name: whom to invite to a 会诊 first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from kefu.collaboration.models import LIVE_CONSULT, Consult, ExpertTeam, ExpertTeamMember
from kefu.org import service as org

PRESENCE_RANK = {"available": 0, "after_call_work": 1, "not_ready": 2, "break": 3, "offline": 4}


@dataclass(frozen=True)
class Expert:
    user_id: int
    name: str
    unit_id: int
    unit_name: str  # their region (city or province)
    domains: tuple[str, ...]
    teams: tuple[str, ...]  # team keys
    load: int
    presence: str


def order(experts: Sequence[Expert]) -> list[Expert]:
    """Pure: the available first, then the least loaded, then by name."""
    return sorted(experts, key=lambda e: (PRESENCE_RANK.get(e.presence, 9), e.load, e.name, e.user_id))


def experts(session: Session, *, domain: str | None = None, unit_path: str | None = None) -> list[Expert]:
    """The directory, narrowed to a domain and to experts whose unit is in a region's subtree."""
    from kefu.routing import service as routing

    q = (select(ExpertTeamMember.user_id, ExpertTeam.id, ExpertTeam.key, ExpertTeam.domain)
         .join(ExpertTeam, ExpertTeam.id == ExpertTeamMember.team_id).where(ExpertTeam.active.is_(True))
         .order_by(ExpertTeam.key))
    rows = list(session.execute(q))
    by_user: dict[int, list[tuple[int, str, str]]] = {}
    for user_id, team_id, key, dom in rows:
        by_user.setdefault(user_id, []).append((team_id, key, dom))
    if domain is not None:
        by_user = {u: ts for u, ts in by_user.items() if any(d == domain for _, _, d in ts)}
    users = org.users(session, set(by_user))
    units = {u.id: u for u in org.units(session, list({x.org_unit_id for x in users.values()}))} if users else {}
    out = []
    for user_id, ts in by_user.items():
        user = users.get(user_id)
        if user is None or not user.active:
            continue
        unit = units.get(user.org_unit_id)
        if unit is None or (unit_path is not None and not unit.path.startswith(unit_path)):
            continue
        team_ids = [t for t, _, _ in ts]
        load = session.scalar(select(func.count()).select_from(Consult).where(
            Consult.state.in_(LIVE_CONSULT),
            or_(and_(Consult.target_kind == "user", Consult.target_user_id == user_id),
                and_(Consult.target_kind == "team", Consult.target_team_id.in_(team_ids))))) or 0
        out.append(Expert(user_id=user_id, name=user.display_name, unit_id=unit.id, unit_name=unit.name,
                          domains=tuple(sorted({d for _, _, d in ts})), teams=tuple(k for _, k, _ in ts),
                          load=int(load), presence=routing.agent_status(session, user_id).presence))
    return order(out)
