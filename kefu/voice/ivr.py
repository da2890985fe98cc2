"""The hotline's IVR menu: one tree whose root the caller hears first. A menu node offers digits; a
self-service node reads something out (balance, bill, data left ...); an agent node ("0" for a human)
puts the call in its routing queue; a handoff node sends the caller a link to finish in another channel; a
callback node (预约回拨: what the switch plays when the queue is closed, outside its service hours) takes a
request to be called back, which routing offers in the node's voice queue when it opens (kefu.voice.service).

The switch reports "IVR node entered" events by node key (kefu/voice/callstate.py); a call whose last
node is an agent node waits in that node's queue when the switch does not name one. Services flush,
never commit; an administrator edits the tree on /console/voice/ivr (the API: /api/v1/voice/ivr).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.voice.models import IVR_KINDS, IvrNode

SERVICES = {"balance": ("话费余额", "Balance"), "bill": ("账单查询", "Bill"), "data_left": ("剩余流量", "Data left"),
            "package": ("套餐查询", "My plan"), "top_up": ("充值缴费", "Top-up"),
            "outage": ("故障公告", "Outage notice")}
HANDOFF_CHANNELS = {"sms": ("短信链接", "SMS link"), "wechat": ("微信模板消息", "WeChat template"),
                    "app": ("App 推送", "App push")}
KIND_NAMES = {"menu": ("菜单", "Menu"), "self_service": ("自助服务", "Self-service"),
              "agent": ("转人工", "To an agent"), "handoff": ("渠道转接", "Channel handoff"),
              "callback": ("预约回拨", "Callback request")}
DIGITS = tuple("0123456789*#")
KEY = re.compile(r"^[a-z0-9_]{1,40}$")


class IvrNodeNotFound(NotFound):
    code = "ivr_node_not_found"


class InvalidIvrNode(InvalidInput):
    code = "invalid_ivr_node"


class IvrNodeInUse(Conflict):
    code = "ivr_node_in_use"


@dataclass(frozen=True)
class NodeSpec:
    key: str
    name: str
    kind: str
    parent_key: str | None = None
    digit: str | None = None
    name_en: str | None = None
    service: str | None = None
    queue_key: str | None = None
    handoff_channel: str | None = None
    position: int = 0


@dataclass
class TreeNode:
    node: IvrNode
    depth: int
    children: list[TreeNode] = field(default_factory=list)


def nodes(session: Session) -> list[IvrNode]:
    return list(session.scalars(select(IvrNode).order_by(IvrNode.position, IvrNode.digit, IvrNode.id)))


def node(session: Session, key: str) -> IvrNode:
    row = session.scalar(select(IvrNode).where(IvrNode.key == key))
    if row is None:
        raise IvrNodeNotFound(f"IVR node '{key}' not found")
    return row


def tree(session: Session) -> list[TreeNode]:
    """The menu as a tree (roots first; one root in a well-formed menu), children by position and digit."""
    rows = nodes(session)
    by_parent: dict[int | None, list[IvrNode]] = {}
    for r in rows:
        by_parent.setdefault(r.parent_id, []).append(r)

    def build(r: IvrNode, depth: int) -> TreeNode:
        return TreeNode(r, depth, [build(c, depth + 1) for c in by_parent.get(r.id, [])])

    return [build(r, 0) for r in by_parent.get(None, [])]


def flat(trees: Sequence[TreeNode]) -> list[TreeNode]:
    """The tree in reading order (depth first)."""
    out: list[TreeNode] = []
    for t in trees:
        out.append(t)
        out += flat(t.children)
    return out


def _fail(message: str, field_name: str) -> InvalidIvrNode:
    return InvalidIvrNode(message, details={"field": field_name})


def save_node(session: Session, spec: NodeSpec) -> IvrNode:
    """Create a node or change one (by key), checked: a known kind; one root; a digit unique among its
    siblings; a parent that is a menu and not the node itself or below it; what the kind needs (a service,
    an active routing queue of voice, a handoff channel)."""
    from kefu.routing import service as routing

    if not KEY.match(spec.key):
        raise _fail("a node key is 1-40 lower-case letters, digits or '_'", "key")
    if spec.kind not in IVR_KINDS:
        raise _fail(f"kind must be one of {', '.join(IVR_KINDS)}", "kind")
    name = spec.name.strip()
    if not name or len(name) > 100:
        raise _fail("a node needs a name (at most 100 characters)", "name")
    row = session.scalar(select(IvrNode).where(IvrNode.key == spec.key))
    parent = node(session, spec.parent_key) if spec.parent_key else None
    if parent is None:
        root = session.scalar(select(IvrNode).where(IvrNode.parent_id.is_(None)))
        if root is not None and (row is None or root.id != row.id):
            raise _fail(f"the menu has a root already ('{root.key}'); give this node a parent", "parent_key")
        if spec.digit is not None:
            raise _fail("the root is reached by calling, not by a digit", "digit")
    else:
        if parent.kind != "menu":
            raise _fail(f"'{parent.key}' is not a menu: only a menu has digits under it", "parent_key")
        if row is not None and _is_below(session, parent, row):
            raise _fail("a node cannot be placed under itself", "parent_key")
        if spec.digit not in DIGITS:
            raise _fail("a node under a menu is reached by one key: 0-9, * or #", "digit")
        clash = session.scalar(select(IvrNode).where(IvrNode.parent_id == parent.id, IvrNode.digit == spec.digit))
        if clash is not None and (row is None or clash.id != row.id):
            raise _fail(f"digit {spec.digit} of '{parent.key}' is taken by '{clash.key}'", "digit")
    service = queue_key = channel = None
    if spec.kind == "self_service":
        if spec.service not in SERVICES:
            raise _fail(f"a self-service node reads one of {', '.join(SERVICES)}", "service")
        service = spec.service
    elif spec.kind in ("agent", "callback"):
        voice_queues = {q.key for q in routing.queues(session) if q.channel == "voice"}
        if spec.queue_key not in voice_queues:
            raise _fail(f"an {spec.kind} node names an active voice queue", "queue_key")
        queue_key = spec.queue_key
    elif spec.kind == "handoff":
        if spec.handoff_channel not in HANDOFF_CHANNELS:
            raise _fail(f"a handoff node sends by one of {', '.join(HANDOFF_CHANNELS)}", "handoff_channel")
        channel = spec.handoff_channel
    if row is not None and row.kind == "menu" and spec.kind != "menu" and _children(session, row):
        raise IvrNodeInUse(f"'{row.key}' has nodes under it; move or delete them first")
    if row is None:
        row = IvrNode(key=spec.key)
        session.add(row)
    row.parent_id = parent.id if parent is not None else None
    row.digit = spec.digit if parent is not None else None
    row.name, row.name_en = name, (spec.name_en or "").strip()[:100] or None
    row.kind, row.service, row.queue_key, row.handoff_channel = spec.kind, service, queue_key, channel
    row.position, row.updated_at = spec.position, utcnow()
    session.flush()
    return row


def _children(session: Session, row: IvrNode) -> list[IvrNode]:
    return list(session.scalars(select(IvrNode).where(IvrNode.parent_id == row.id)))


def _is_below(session: Session, candidate: IvrNode, ancestor: IvrNode) -> bool:
    """`candidate` is `ancestor` or lies under it."""
    seen: set[int] = set()
    current: IvrNode | None = candidate
    while current is not None and current.id not in seen:
        if current.id == ancestor.id:
            return True
        seen.add(current.id)
        current = session.get(IvrNode, current.parent_id) if current.parent_id is not None else None
    return False


def delete_node(session: Session, key: str) -> None:
    row = node(session, key)
    if _children(session, row):
        raise IvrNodeInUse(f"'{key}' has nodes under it; delete them first")
    session.delete(row)
    session.flush()


def queue_for_path(session: Session, path: Sequence[str]) -> str | None:
    """The queue of the last agent node on a call's IVR path (node keys in order), if any."""
    if not path:
        return None
    rows = {r.key: r for r in session.scalars(select(IvrNode).where(IvrNode.key.in_(set(path))))}
    for key in reversed(path):
        r = rows.get(key)
        if r is not None and r.kind == "agent":
            return r.queue_key
    return None


def names_of(session: Session, keys: Sequence[str]) -> dict[str, IvrNode]:
    if not keys:
        return {}
    return {r.key: r for r in session.scalars(select(IvrNode).where(IvrNode.key.in_(set(keys))))}


DEFAULT_MENU: tuple[tuple[str, str | None, str | None, str, str, str, dict[str, Any]], ...] = (
    # key, parent, digit, name, name_en, kind, extra
    ("root", None, None, "欢迎致电", "Welcome", "menu", {}),
    ("balance", "root", "1", "话费余额", "Balance", "self_service", {"service": "balance"}),
    ("bill", "root", "2", "账单查询", "Bill", "self_service", {"service": "bill"}),
    ("data_left", "root", "3", "剩余流量", "Data left", "self_service", {"service": "data_left"}),
    ("broadband", "root", "4", "宽带报修（短信链接）", "Broadband repair (SMS link)", "handoff",
     {"handoff_channel": "sms"}),
    ("human", "root", "0", "人工服务", "An agent", "agent", {"queue_key": "voice"}),
)


def ensure_default_menu(session: Session) -> list[IvrNode]:
    """A starting menu (balance, bill, data left, a broadband handoff, "0" for an agent) when there is
    none; needs the routing queue "voice" (kefu.routing.service.ensure_defaults)."""
    existing = nodes(session)
    if existing:
        return existing
    return [save_node(session, NodeSpec(key=k, parent_key=p, digit=d, name=n, name_en=e, kind=kind, position=i,
                                        **extra))
            for i, (k, p, d, n, e, kind, extra) in enumerate(DEFAULT_MENU)]
