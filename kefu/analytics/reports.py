"""KPI reports: a day (by hour), a week or a month (by day) for one org unit's subtree and one channel or
all; drawn as server-rendered SVG (kefu/analytics/charts.py) and exported as CSV and XLSX with Chinese
headers. Figures come from kefu/analytics/service.py; definitions from docs/kpis.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kefu.analytics import kpi, service
from kefu.analytics.service import ZONE, Grid
from kefu.customers.ages import BAND_NAMES

PERIODS = ("day", "week", "month")
CHANNEL_NAMES = {"voice": ("热线", "Hotline"), "sms": ("短信", "SMS"), "email": ("邮件", "E-mail"),
                 "wechat": ("微信", "WeChat"), "im": ("QQ/IM", "QQ/IM"), "weibo": ("微博", "Weibo"),
                 "app": ("掌厅", "App"), "web": ("网厅", "Web portal"), "webchat": ("在线客服", "Web chat")}
#: Routing's media (the coverage report's rows: the queues serving each).
MEDIA_NAMES = {"voice": ("热线", "Hotline"), "chat": ("在线会话", "Chats"), "message": ("消息", "Messages"),
               "ticket": ("工单", "Tickets")}
PERIOD_NAMES = {"day": ("日报", "Daily"), "week": ("周报", "Weekly"), "month": ("月报", "Monthly")}
#: A report's figures broken down by keys of the daily summaries (kefu/analytics/summary.py); the complaint,
#: appeal and first-contact figures too where the quality summary has the keys (kefu/analytics/quality.py).
BREAKDOWNS = {"unit": ("org_unit_id",), "channel": ("channel",), "queue": ("queue_key",), "category": ("category",),
              "tier": ("tier",), "category_tier": ("category", "tier"), "agent": ("agent_id",)}
BREAKDOWN_NAMES = {"unit": ("单位", "Unit"), "channel": ("渠道", "Channel"), "queue": ("队列", "Queue"),
                   "category": ("问题分类", "Category"), "tier": ("客户等级", "Customer tier"),
                   "category_tier": ("问题分类×客户等级", "Category × customer tier"), "agent": ("坐席", "Agent")}
TIER_NAMES = {"diamond": ("钻石", "Diamond"), "gold": ("金卡", "Gold"), "silver": ("银卡", "Silver"),
              "standard": ("普通", "Standard")}


def period_bounds(period: str, start: date) -> tuple[date, date]:
    """The local dates [first, end) of the period holding ``start``: the day, its week (Monday first), its
    month."""
    if period == "day":
        return start, start + timedelta(days=1)
    if period == "week":
        first = start - timedelta(days=start.weekday())
        return first, first + timedelta(days=7)
    if period == "month":
        first = start.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, nxt
    raise ValueError(f"unknown period {period!r} (one of {', '.join(PERIODS)})")


def local_instant(d: date, zone: str = ZONE) -> datetime:
    from kefu.interactions.calls import zone as find_zone

    return datetime(d.year, d.month, d.day, tzinfo=find_zone(zone)).astimezone(UTC)


@dataclass
class Row:
    label: str
    start: datetime
    tally: kpi.Tally
    quality: Any = None  # a breakdown's part: its quality.Figures (complaints, appeals, first contact)


@dataclass
class Report:
    period: str
    first: date
    end: date
    unit_id: int
    channel: str | None
    rows: list[Row]
    total: kpi.Tally
    complaints: service.ComplaintFigures
    fcr: tuple[int, int]
    made_at: datetime
    repeats: Any = None  # journeys.RepeatFigures (all channels)
    by: str | None = None  # a key of BREAKDOWNS
    parts: list[Row] = field(default_factory=list)  # the period's figures per value of ``by``
    recommendations: list[Any] = field(default_factory=list)  # journeys.Recommendation per task type
    task_names: dict[str, str] = field(default_factory=dict)  # first-level category key -> its name
    csat: Any = None  # kefu.sla.surveys.Csat of the period's surveys (sent, answered, satisfied, score total)
    handoffs: Any = None  # kefu.handoffs.service.HandoffStats of the period
    coverage: list[Any] = field(default_factory=list)  # kefu.sla.service.coverage_report of the first week
    occupancy: list[tuple[str, kpi.Staffing]] = field(default_factory=list)  # per interval (label, staffing)
    agent_occupancy: list[tuple[str, kpi.Staffing]] = field(default_factory=list)  # per agent, by name
    before_complaints: list[Any] = field(default_factory=list)  # journeys.PathBefore per channel path
    before_appeals: list[Any] = field(default_factory=list)  # the same for escalations (appeals)
    channel_by_tier: dict[tuple[str, str], int] = field(default_factory=dict)  # (tier, channel) -> contacts
    channel_by_age: dict[tuple[str, str], int] = field(default_factory=dict)  # (age band, channel) -> contacts


def build(session: Session, *, period: str, start: date, unit_id: int, unit_ids: list[int],
          channel: str | None, now: datetime, zone: str = ZONE, by: str | None = None, zh: bool = True) -> Report:
    """The report of ``period`` holding ``start`` over the units ``unit_ids`` (the subtree of ``unit_id``),
    with its figures per value of ``by`` (a key of BREAKDOWNS) when given, named in Chinese or (zh False)
    English."""
    first, end = period_bounds(period, start)
    t0, t1 = local_instant(first, zone), local_instant(end, zone)
    minutes = 60 if period == "day" else service.DAY_MINUTES
    grid = Grid(t0, t1, minutes, zone)
    channels = [channel] if channel else None
    from kefu.analytics import summary as summaries

    if summaries.usable(grid):  # the intervals' totals added by the database
        by_bucket = {k[0]: t for k, t in summaries.contact_tallies(session, grid, unit_ids=unit_ids,
                                                                    channels=channels, whole=True).items()}
    else:
        by_bucket = service.sum_by(service.tallies(session, grid, unit_ids=unit_ids, channels=channels),
                                   lambda k: k[0])
    rows = []
    from kefu.interactions.calls import zone as find_zone

    tz = find_zone(zone)
    k = t0
    step = timedelta(minutes=minutes)
    while k < t1:
        local = k.astimezone(tz)
        label = local.strftime("%H:00") if period == "day" else local.strftime("%m-%d")
        rows.append(Row(label, k, by_bucket.get(k, kpi.Tally())))
        k += step
    total = kpi.Tally.total(r.tally for r in rows)
    if zone == ZONE:  # the quality summary's days are China's
        from kefu.analytics import quality

        complaints = quality.complaint_figures(session, first, end, unit_ids=unit_ids, now=now, channels=channels)
        fcr = quality.first_contact(session, first, end, unit_ids=unit_ids, channels=channels)
    else:
        complaints = service.complaint_figures(session, t0, t1, unit_ids=unit_ids, now=now, channels=channels)
        fcr = service.first_contact(session, t0, t1, unit_ids=unit_ids, channels=channels)
    from kefu.analytics import journeys

    parts = breakdown(session, by, first, end, t0, unit_ids=unit_ids, channels=channels, zh=zh,
                      now=now if zone == ZONE else None) if by else []
    from kefu.sla import surveys

    if zone == ZONE:  # the survey, return, path and handoff summaries' days are China's
        from kefu.analytics import handoffs, satisfaction

        repeats, recs = journeys.returns(session, first, end, unit_ids=unit_ids)
        csat = satisfaction.csat(session, first, end, unit_ids=unit_ids, channels=channels)
        handed = handoffs.stats(session, first, end, unit_ids=unit_ids)
        before = [journeys.paths(session, first, end, unit_ids=unit_ids, channels=channels, type=type_)
                  for type_ in ("complaint", "appeal")]
    else:
        from kefu.handoffs import service as handoff_service

        repeats = journeys.repeat_contacts(session, t0, t1, unit_ids=unit_ids)
        recs = journeys.channel_recommendations(session, t0, t1, unit_ids=unit_ids)
        per_channel = surveys.csat_by(session, "channel", since=t0, until=t1, unit_ids=unit_ids)
        csat = surveys.Csat.total(c for c in per_channel if channel is None or c.key == channel)
        handed = handoff_service.stats(session, unit_ids, start=t0, end=t1)
        before = [journeys.before_complaints(session, t0, t1, unit_ids=unit_ids, channels=channels, type=type_)
                  for type_ in ("complaint", "appeal")]
    rep = Report(period, first, end, unit_id, channel, rows, total, complaints, fcr, now, repeats, by, parts,
                 recs, _category_names(session, [r.task for r in recs], zh=zh), csat, handed)
    rep.channel_by_tier = {k: t.offered + t.pending for k, t in summaries.breakdown(
        session, first, end, by=("tier", "channel"), unit_ids=unit_ids, channels=channels).items()}
    rep.channel_by_age = {k: t.offered + t.pending for k, t in summaries.breakdown(
        session, first, end, by=("age_band", "channel"), unit_ids=unit_ids, channels=channels).items()}
    rep.before_complaints, rep.before_appeals = before
    if grid.offset % 3600 == 0:  # presence is kept per UTC hour
        from kefu.analytics import occupancy

        per_interval = occupancy.per_interval(session, grid, unit_ids=unit_ids, now=now)
        rep.occupancy = [(r.label, per_interval.get(r.start, kpi.Staffing())) for r in rows]
        agents = occupancy.per_agent(session, first, end, unit_ids=unit_ids, now=now, zone_start=t0, zone_end=t1)
        who = occupancy.names(session, agents)
        rep.agent_occupancy = sorted(((who.get(a, str(a)), st) for a, st in agents.items()), key=lambda x: x[0])
    return rep


def _category_names(session: Session, keys: list[str], *, zh: bool) -> dict[str, str]:
    from sqlalchemy import select

    from kefu.tickets.models import Category

    return {k: (n if zh else en) for k, n, en in session.execute(
        select(Category.key, Category.name, Category.name_en).where(Category.key.in_(keys)))}


def breakdown(session: Session, by: str, first: date, end: date, t0: datetime, *, unit_ids: list[int],
              channels: list[str] | None, zh: bool = True, now: datetime | None = None) -> list[Row]:
    """The local days [first, end) per value of ``by``, named (a unit's, an agent's, a category's name;
    "category · tier" for two keys), largest first; contacts without one (no queue, no agent) are named "—",
    last. With ``now``, a part also has its complaint, appeal and first-contact figures when the quality
    summaries keep them by ``by`` (per queue or agent: of the contact, a complaint's first contact); a part
    with those figures and no contacts too."""
    from kefu.analytics import quality, summary

    if by not in BREAKDOWNS:
        raise ValueError(f"unknown breakdown {by!r} (one of {', '.join(BREAKDOWNS)})")
    keys = BREAKDOWNS[by]
    parts = summary.breakdown(session, first, end, by=keys, unit_ids=unit_ids, channels=channels)
    figures: dict[tuple[Any, ...], Any] = {}
    if now is not None and set(keys) <= set(quality.DIMENSIONS):
        figures = quality.figures_by(session, first, end, by=keys, unit_ids=unit_ids, now=now, channels=channels)
    names = [_names(session, k, [v[n] for v in (*parts, *figures)], zh=zh) for n, k in enumerate(keys)]

    def label(values: tuple[Any, ...]) -> str:
        if all(v in ("", 0) for v in values):
            return "—"
        return " · ".join(str(m.get(v, v)) if v not in ("", 0) else "—" for m, v in zip(names, values, strict=True))

    rows = [Row(label(v), t0, parts.get(v, kpi.Tally()), figures.get(v)) for v in {**parts, **figures}]
    return sorted(rows, key=lambda r: (r.label == "—", -r.tally.offered, r.label))


def _names(session: Session, key: str, values: list[Any], *, zh: bool) -> dict[Any, str]:
    """The names of the values of a breakdown's key (a unit's, an agent's, a category's)."""
    from sqlalchemy import select

    from kefu.org import service as org
    from kefu.org.models import OrgUnit

    i = 0 if zh else 1
    if key == "org_unit_id":
        return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(values))).all())
    if key == "agent_id":
        return {uid: u.display_name for uid, u in org.users(session, [v for v in values if v]).items()}
    if key == "category":
        return _category_names(session, values, zh=zh)
    if key == "channel":
        return {c: CHANNEL_NAMES[c][i] for c in values if c in CHANNEL_NAMES}
    if key == "tier":
        return {t: TIER_NAMES[t][i] for t in values if t in TIER_NAMES}
    return {}


# ---- tables and exports ---------------------------------------------------------------------------

def pct(v: float | None) -> float | None:
    """A share 0..1 as a percentage rounded to 2 places (None stays None)."""
    return None if v is None else round(v * 100, 2)


_pct = pct


def _sec(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


#: The columns of a report's table: (Chinese header, English header, value of a Tally).
COLUMNS: list[tuple[str, str, Callable[[kpi.Tally], Any]]] = [
    ("呼入量", "Offered", lambda t: t.offered),
    ("接通量", "Answered", lambda t: t.answered),
    ("放弃量", "Abandoned", lambda t: t.abandoned),
    ("短放弃量(<5秒)", "Short abandons (<5 s)", lambda t: t.short_abandoned),
    ("接通率%", "Answer rate %", lambda t: _pct(t.answer_rate())),
    ("15秒接通率%", "15 s service level %", lambda t: _pct(t.service_level(15))),
    ("20秒接通率%", "20 s service level %", lambda t: _pct(t.service_level(20))),
    ("放弃率%", "Abandonment %", lambda t: _pct(t.abandonment())),
    ("平均应答时长(秒)", "ASA (s)", lambda t: _sec(t.asa())),
    ("平均处理时长(秒)", "AHT (s)", lambda t: _sec(t.aht())),
]


def quality_figures() -> Any:
    """No complaints, appeals or contacts of a known customer."""
    from kefu.analytics import quality

    return quality.Figures(service.ComplaintFigures(0, kpi.ReplyTally(), 0, 0, 0), (0, 0))


#: The complaint, appeal and first-contact columns of a breakdown (of a part's quality.Figures).
QUALITY_COLUMNS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("投诉量", "Complaints", lambda q: q.complaints.complaints),
    ("投诉15日回复率%", "Complaint replies within 15 days %", lambda q: _pct(q.complaints.replies.on_time_rate())),
    ("重复投诉率%(30天)", "Repeat complaints % (30 days)", lambda q: _pct(q.complaints.repeat_rate())),
    ("越级投诉(申诉)量", "Escalations (appeals)", lambda q: q.complaints.appeals),
    ("一次解决率%(7天)", "First-contact resolution % (7 days)",
     lambda q: _pct(q.fcr[0] / q.fcr[1] if q.fcr[1] else None)),
]


def _per_thousand(n: int, of: int) -> float | None:
    return round(n * 1000 / of, 2) if of else None


#: The rates of a queue's or an agent's complaints (breakdowns by queue or agent): complaints per 1,000
#: contacts answered, and escalations (appeals) per 100 complaints (the rates per customer are not theirs).
HANDLER_COLUMNS: list[tuple[str, str, Callable[[Row, Any], Any]]] = [
    ("投诉率(每千次接通)", "Complaints per 1,000 answered",
     lambda r, q: _per_thousand(q.complaints.complaints, r.tally.answered)),
    ("越级投诉率%(申诉/投诉)", "Escalation rate % (appeals / complaints)",
     lambda r, q: None if (rate := q.complaints.escalation_rate()) is None else round(rate * 100, 2)),
]


def table(report: Report, *, zh: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows (the period's intervals, then the total)."""
    headers = ["时段" if zh else "Interval"] + [c[0] if zh else c[1] for c in COLUMNS]
    rows = [[r.label] + [f(r.tally) for _, _, f in COLUMNS] for r in report.rows]
    rows.append(["合计" if zh else "Total"] + [f(report.total) for _, _, f in COLUMNS])
    return headers, rows


def parts_table(report: Report, *, zh: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the breakdown (none when the report has no ``by``)."""
    if report.by is None:
        return [], []
    headers = [BREAKDOWN_NAMES[report.by][0 if zh else 1]] + [c[0] if zh else c[1] for c in COLUMNS]
    if not any(r.quality is not None for r in report.parts):
        return headers, [[r.label] + [f(r.tally) for _, _, f in COLUMNS] for r in report.parts]
    empty = quality_figures()
    rates = HANDLER_COLUMNS if report.by in ("queue", "agent") else []
    return headers + [c[0] if zh else c[1] for c in (*QUALITY_COLUMNS, *rates)], [
        [r.label] + [f(r.tally) for _, _, f in COLUMNS] + [f(r.quality or empty) for _, _, f in QUALITY_COLUMNS]
        + [g(r, r.quality or empty) for _, _, g in rates] for r in report.parts]


def recommendation_table(report: Report, *, zh: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the channel recommendation: per task type its channels, best first, the
    recommended one marked."""
    headers = (["业务类型", "渠道", "推荐", "接触量", "7天内再次接触率%", "平均解决时长(小时)"] if zh else
               ["Task type", "Channel", "Recommended", "Contacts", "Return contact % (7 days)",
                "Mean time to resolution (h)"])
    i = 0 if zh else 1
    rows: list[list[Any]] = []
    for rec in report.recommendations:
        for o in rec.outcomes:
            mean = o.mean_resolve()
            rows.append([report.task_names.get(rec.task, rec.task), CHANNEL_NAMES.get(o.channel, (o.channel,) * 2)[i],
                         ("推荐" if zh else "yes") if o.channel == rec.channel else "", o.contacts,
                         _pct(o.return_rate()), None if mean is None else round(mean / 3600, 1)])
    return headers, rows


def handoff_table(report: Report, *, zh: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the handoffs (hotline to digital channels, kefu.handoffs): per direction, then the
    total; none without handoffs."""
    h = report.handoffs
    if h is None or not h.offered:
        return [], []
    headers = (["转出渠道", "转入渠道", "转接量", "已打开", "已完成", "回流热线", "完成率%", "回流率%"] if zh else
               ["From", "To", "Offered", "Opened", "Completed", "Came back", "Completion %", "Return %"])
    i = 0 if zh else 1

    def name(c: str) -> str:
        return CHANNEL_NAMES.get(c, (c, c))[i]

    rows = [[name(d.from_channel), name(d.to_channel), d.offered, d.opened, d.completed, d.returned,
             _pct(d.completion_rate), _pct(d.return_rate)] for d in h.directions]
    rows.append(["合计" if zh else "Total", "", h.offered, h.opened, h.completed, h.returned,
                 _pct(h.completed / h.offered), _pct(h.returned / h.offered)])
    return headers, rows


def coverage_table(report: Report, *, zh: bool = True) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the 7×24 coverage per channel (media) in the week the report starts in, from the
    service hours of the queues serving it (kefu.sla)."""
    if not report.coverage:
        return [], []
    headers = (["渠道", "服务队列", "7×24覆盖率%", "未覆盖小时", "全天候"] if zh else
               ["Channel", "Queues", "7×24 coverage %", "Hours not covered", "Round the clock"])
    i = 0 if zh else 1
    rows = [[MEDIA_NAMES.get(key, (key, key))[i], "、".join(queues) if zh else ", ".join(queues),
             _pct(row.ratio), round(7 * 24 - row.covered_seconds / 3600, 1),
             ("是" if zh else "yes") if row.full else ("否" if zh else "no")]
            for key, queues, row in report.coverage]
    return headers, rows


def table_charts(report: Report, *, zh: bool = True) -> dict[str, dict[str, Any]]:
    """The charts of the report's tables besides the intervals' (ECharts' data, and the server's SVG
    from the same figures): per part of the breakdown its contacts and answer rate, per handoff direction
    its handoffs and completion rate, per media its hours covered and 7×24 coverage. Each: its own labels,
    bars (a count), values (a percentage or None), names, a target percentage or None, a title."""
    out: dict[str, dict[str, Any]] = {}

    def chart(key: str, labels: list[str], bars: list[float], values: list[float | None], bar: tuple[str, str],
              line: tuple[str, str], title: tuple[str, str], target: float | None = None) -> None:
        if labels:
            i = 0 if zh else 1
            out[key] = {"labels": labels, "bars": bars, "values": values, "bar": bar[i], "line": line[i],
                        "target": target, "title": title[i]}

    if report.by is not None:
        parts = report.parts[:30]  # the largest
        chart("parts", [r.label for r in parts], [r.tally.offered for r in parts],
              [_pct(r.tally.answer_rate()) for r in parts], ("呼入量", "Offered"), ("接通率%", "Answer rate %"),
              (f"按{BREAKDOWN_NAMES[report.by][0]}：呼入量与接通率", f"By {BREAKDOWN_NAMES[report.by][1].lower()}: "
               "offered and answer rate"))
    h = report.handoffs
    if h is not None and h.offered:
        i = 0 if zh else 1
        chart("handoffs", [f"{CHANNEL_NAMES.get(d.from_channel, (d.from_channel,) * 2)[i]}→"
                           f"{CHANNEL_NAMES.get(d.to_channel, (d.to_channel,) * 2)[i]}" for d in h.directions],
              [d.offered for d in h.directions], [_pct(d.completion_rate) for d in h.directions],
              ("转接量", "Handoffs"), ("完成率%", "Completion %"), ("转接量与完成率", "Handoffs and completion"))
    if report.coverage:
        i = 0 if zh else 1
        chart("coverage", [MEDIA_NAMES.get(key, (key, key))[i] for key, _, _ in report.coverage],
              [round(row.covered_seconds / 3600, 1) for _, _, row in report.coverage],
              [_pct(row.ratio) for _, _, row in report.coverage], ("覆盖小时", "Hours covered"),
              ("7×24覆盖率%", "7×24 coverage %"), ("7×24 服务覆盖", "7×24 coverage"), target=100)
    return out


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 2)


def occupancy_tables(report: Report, *, zh: bool = True) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """The occupancy sections: (key, title, headers, rows) per interval and per agent (none without staffed
    time)."""
    def rows(pairs: list[tuple[str, kpi.Staffing]]) -> list[list[Any]]:
        return [[label, _hours(st.available), _hours(st.after_call_work), _hours(st.handling),
                 _pct(st.occupancy())] for label, st in pairs if st.available or st.after_call_work]

    cols = (["在线可用(小时)", "话后处理(小时)", "通话处理(小时)", "占用率%"] if zh else
            ["Available (h)", "After-call work (h)", "Handling calls (h)", "Occupancy %"])
    out = []
    by_interval = rows(report.occupancy)
    if by_interval:
        out.append(("occupancy", "坐席占用率（按时段）" if zh else "Agent occupancy per interval",
                    ["时段" if zh else "Interval", *cols], by_interval))
    by_agent = rows(report.agent_occupancy)
    if by_agent:
        out.append(("agent_occupancy", "坐席占用率（按坐席）" if zh else "Agent occupancy per agent",
                    ["坐席" if zh else "Agent", *cols], by_agent))
    return out


def before_complaints_table(report: Report, *, zh: bool = True) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """The journeys before a complaint: per channel path, the complaints, the mean contacts before them and
    the share handed off in the window (none without complaints of a known customer)."""
    from kefu.analytics import journeys

    i = 0 if zh else 1
    none = "（无接触）" if zh else "(no contact)"
    days = journeys.BEFORE_DAYS
    out = []
    for key, paths, title, what in (
            ("before_complaints", report.before_complaints,
             (f"投诉前的客户旅程（投诉前{days}天的接触渠道）", f"Journeys before a complaint ({days} days before)"),
             ("投诉量", "Complaints")),
            ("before_appeals", report.before_appeals,
             (f"以越级投诉（申诉）告终的客户旅程（申诉前{days}天）",
              f"Journeys that ended in an escalation ({days} days before)"),
             ("申诉量", "Escalations"))):
        if paths:
            rows = [[" → ".join(CHANNEL_NAMES.get(c, (c, c))[i] for c in p.path) or none, p.complaints,
                     round(p.mean_contacts(), 2), _pct(p.handoff_share())] for p in paths]
            headers = (["渠道路径", what[0], "平均接触次数", "曾被转接%"] if zh else
                       ["Channel path", what[1], "Mean contacts", "Handed off %"])
            out.append((key, title[i], headers, rows))
    return out


def channel_use_table(report: Report, *, zh: bool = True) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """Channel use by customer segment: the contacts of each tier, and of each age band at the contact
    (kefu/customers/ages.py), per channel, with each channel's share of the row's contacts (none without
    contacts)."""
    i = 0 if zh else 1
    unknown = ("未识别客户", "Unknown customer")
    tier_names = {t: TIER_NAMES[t][i] if t in TIER_NAMES else (t or unknown[i]) for t, _ in report.channel_by_tier}
    age_names = {b: BAND_NAMES.get(b, (b, b))[i] for b, _ in report.channel_by_age}
    return [*_channel_use(report.channel_by_tier, list(TIER_NAMES), tier_names, zh=zh, key="channel_use",
                          title=("渠道使用（按客户等级）", "Channel use by customer tier"),
                          first=("客户等级", "Customer tier")),
            *_channel_use(report.channel_by_age, list(BAND_NAMES), age_names, zh=zh, key="channel_use_age",
                          title=("渠道使用（按年龄段）", "Channel use by age band"), first=("年龄段", "Age band"))]


def _channel_use(counts: dict[tuple[str, str], int], order: list[str], names: dict[str, str], *, zh: bool,
                 key: str, title: tuple[str, str], first: tuple[str, str]) -> list[tuple[str, str, list[str],
                                                                                        list[list[Any]]]]:
    """One table of channel use: a row per segment (in ``order``, others after), a column per channel."""
    if not counts:
        return []
    i = 0 if zh else 1
    channels = sorted({c for _, c in counts}, key=lambda c: (list(CHANNEL_NAMES).index(c)
                                                             if c in CHANNEL_NAMES else 99, c))
    segments = sorted({t for t, _ in counts}, key=lambda t: (order.index(t) if t in order else 99, t))
    rows = []
    for seg in segments:
        row = [counts.get((seg, c), 0) for c in channels]
        total = sum(row)
        rows.append([names[seg], *(f"{n} ({_pct(n / total)}%)" if total else "0" for n in row), total])
    headers = [first[i], *(CHANNEL_NAMES.get(c, (c, c))[i] for c in channels), "合计" if zh else "Total"]
    return [(key, title[i], headers, rows)]


def sections(report: Report, *, zh: bool = True) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """The report's further sections, each (key, title, headers, rows), for the page and the exports."""
    return [*occupancy_tables(report, zh=zh), *channel_use_table(report, zh=zh),
            *before_complaints_table(report, zh=zh)]


def summary(report: Report, *, zh: bool = True) -> list[tuple[str, Any]]:
    """The period's complaint, resolution, satisfaction and handoff figures, named."""
    c = report.complaints
    resolved, counted = report.fcr
    sat, hand = report.csat, report.handoffs
    return [
        ("投诉量" if zh else "Complaints", c.complaints),
        ("投诉15日回复率%" if zh else "Complaint replies within 15 days %", _pct(c.replies.on_time_rate())),
        ("超时未回复" if zh else "Overdue without reply", c.replies.overdue),
        ("重复投诉率%(30天)" if zh else "Repeat complaints % (30 days)", _pct(c.repeat_rate())),
        ("越级投诉(申诉)量" if zh else "Escalations (appeals)", c.appeals),
        ("申诉率(每百万客户)" if zh else "Appeals per million customers",
         None if c.appeals_per_million() is None else round(c.appeals_per_million() or 0.0, 2)),
        ("投诉率(每万客户)" if zh else "Complaints per 10,000 customers",
         None if c.complaints_per_ten_thousand() is None else round(c.complaints_per_ten_thousand() or 0.0, 2)),
        ("一次解决率%(7天)" if zh else "First-contact resolution % (7 days)",
         _pct(resolved / counted if counted else None)),
        ("满意度%(满意/答复)" if zh else "Satisfaction % (satisfied / answers)",
         _pct(sat.csat) if sat is not None else None),
        ("满意度调查答复/发出" if zh else "Surveys answered / sent",
         f"{sat.answered} / {sat.sent}" if sat is not None else None),
        ("热线转数字渠道率%" if zh else "Hotline calls handed off %",
         _pct(hand.handoff_rate) if hand is not None else None),
        ("转接节省热线分钟" if zh else "Hotline minutes saved by handoffs",
         hand.minutes_saved if hand is not None else None),
    ]


def to_csv(report: Report) -> str:
    """CSV with Chinese headers, a UTF-8 BOM so spreadsheet programs read the Chinese right."""
    headers, rows = table(report)
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    w.writerow([])
    for name, value in summary(report):
        w.writerow([name, "" if value is None else value])
    for headers, rows in (parts_table(report), recommendation_table(report), handoff_table(report),
                          coverage_table(report), *((h, r) for _, _, h, r in sections(report))):
        if rows:
            w.writerow([])
            w.writerow(headers)
            for r in rows:
                w.writerow(["" if v is None else v for v in r])
    return out.getvalue()


def to_xlsx(report: Report, *, title: str) -> bytes:
    """An XLSX workbook: the interval table (sheet 指标) and the complaint figures (sheet 投诉与解决)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "指标"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    headers, rows = table(report)
    ws.append(headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append(r)
    ws.freeze_panes = "B3"
    ws.column_dimensions["A"].width = 10
    for col in "BCDEFGHIJK":
        ws.column_dimensions[col].width = 14
    ws2 = wb.create_sheet("投诉与解决")
    ws2.append(["指标", "数值"])
    for name, value in summary(report):
        ws2.append([name, value])
    ws2.column_dimensions["A"].width = 28
    for sheet, (headers, rows) in (("分项", parts_table(report)), ("渠道推荐", recommendation_table(report)),
                                   ("转接", handoff_table(report)), ("7×24覆盖", coverage_table(report)),
                                   *((t[:31], (h, r)) for _, t, h, r in sections(report))):
        if rows:
            ws3 = wb.create_sheet(sheet)
            ws3.append(headers)
            for r in rows:
                ws3.append(r)
            ws3.column_dimensions["A"].width = 20
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- scheduled reports ------------------------------------------------------------------------------

def due_periods(today: date) -> list[tuple[str, date]]:
    """The periods that ended by ``today`` (a local date) and are made today: yesterday; last week on a
    Monday; last month on the 1st."""
    yesterday = today - timedelta(days=1)
    out = [("day", yesterday)]
    if today.weekday() == 0:
        out.append(("week", yesterday))
    if today.day == 1:
        out.append(("month", yesterday))
    return out


def make_scheduled(session: Session, *, now: datetime, zone: str = ZONE) -> list[int]:
    """Make the due reports for the group and every province that lack them; returns the new ids."""
    from sqlalchemy import select

    from kefu.analytics.models import SavedReport
    from kefu.org import service as org
    from kefu.org.models import OrgUnit

    made = []
    units = list(session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(("group", "province")))
                                 .order_by(OrgUnit.path)))
    for period, day in due_periods(service.local_date(now, zone)):
        first, _ = period_bounds(period, day)
        for unit in units:
            exists = session.scalar(select(SavedReport.id).where(
                SavedReport.period == period, SavedReport.first_day == first, SavedReport.org_unit_id == unit.id))
            if exists is not None:
                continue
            rep = build(session, period=period, start=day, unit_id=unit.id,
                        unit_ids=org.subtree_ids(session, unit.path), channel=None, now=now, zone=zone)
            title = report_title(rep, unit.name, zh=True)
            row = SavedReport(period=period, first_day=first, org_unit_id=unit.id, title=title, made_at=now,
                              csv=to_csv(rep), xlsx=to_xlsx(rep, title=title))
            session.add(row)
            session.flush()
            made.append(row.id)
    return made


def report_title(rep: Report, unit_name: str, *, zh: bool) -> str:
    kind = PERIOD_NAMES[rep.period][0 if zh else 1]
    channel = CHANNEL_NAMES[rep.channel][0 if zh else 1] if rep.channel else ("全部渠道" if zh else "All channels")
    last = rep.end - timedelta(days=1)
    span = rep.first.isoformat() if rep.period == "day" else f"{rep.first.isoformat()} – {last.isoformat()}"
    return f"{unit_name} · {channel} · {kind} {span}" if zh else f"{unit_name} · {channel} · {kind} report {span}"


def saved(session: Session, unit_ids: list[int], *, limit: int = 20) -> list[Any]:
    from sqlalchemy import select

    from kefu.analytics.models import SavedReport

    return list(session.execute(
        select(SavedReport.id, SavedReport.title, SavedReport.made_at, SavedReport.period)
        .where(SavedReport.org_unit_id.in_(unit_ids)).order_by(SavedReport.made_at.desc(), SavedReport.id.desc())
        .limit(limit)))
