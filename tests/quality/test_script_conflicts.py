"""Replies against the current script (口径): the pure rule, and the scripts of a ticket's category as published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.core.clock import utcnow
from kefu.quality import service
from kefu.quality.prechecks import Line, Script, claims, script_conflicts
from kefu.tickets import service as tickets
from tests.conftest import World

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
REFUND = Script("退费到账口径", "您好，多扣的话费核实后将在7个工作日内退回原支付账户。国际漫游日套餐每天25元。")


def _reply(text: str, seconds: float = 0, *, by_agent: bool = True) -> Line:
    return Line(T0 + timedelta(seconds=seconds), True, text, by_agent=by_agent)


def _found(*texts: str, scripts: tuple[Script, ...] = (REFUND,)) -> list[str]:
    return [f.detail for f in script_conflicts([_reply(t, i) for i, t in enumerate(texts)], scripts)]


def test_a_different_figure_about_the_same_thing_is_a_conflict() -> None:
    assert _found("您好，退费3个工作日内退回") == ["3个工作日 ≠ 7个工作日（退费到账口径）"]
    assert _found("漫游日套餐每天30元") == ["30元 ≠ 25元（退费到账口径）"]


def test_the_same_figure_written_otherwise_agrees() -> None:
    assert _found("退回原支付账户需要七个工作日") == []
    assert _found("退回原支付账户需要７个工作日") == []  # full-width digit
    assert _found("漫游日套餐每天25块") == []  # 块 is 元


def test_figures_about_other_things_or_in_other_units_are_left_alone() -> None:
    assert _found("您本月多扣了20元") == []  # 元, but not the roaming clause's topic
    assert _found("退费需要3天") == []  # 天 is not 工作日: the script says nothing in days
    assert _found("宽带维修需要3个工作日") == []  # 工作日, but nothing shared with the refund clause


def test_only_the_agents_replies_are_read_and_each_figure_once() -> None:
    lines = [Line(T0, False, "退费3个工作日能到吗"), _reply("【通知】退费3个工作日", 1, by_agent=False),
             _reply("3个工作日内退回原账户，漫游日套餐30元", 2)]
    assert [f.detail for f in script_conflicts(lines, [REFUND])] == [
        "3个工作日 ≠ 7个工作日（退费到账口径）", "30元 ≠ 25元（退费到账口径）"]
    assert script_conflicts(lines, []) == []


def test_claims_read_clauses_units_and_topics() -> None:
    [half] = claims("超出后每天2.5GB限速。")
    assert (half.value, half.unit) == (2.5, "GB")
    [c] = claims("流量包每月10GB，")
    assert (c.value, c.unit, c.written) == (10.0, "GB", "10GB")
    assert {"流量", "量包", "每月"} <= c.topic
    assert "您好" not in claims("您好，退费7天")[0].topic


def _script(w: World, *, title: str, body: str, cats: tuple[str, ...], unit: str = "province",
            valid_until: datetime | None = None) -> int:
    from kefu.knowledge import service as knowledge
    from kefu.knowledge.service import Content
    from kefu.org import service as org

    with w.db.unit_of_work() as s:
        admin = org.principal_for(s, org.user(s, w.users["admin"]))  # type: ignore[arg-type]
        a = knowledge.create_article(s, admin, Content(title=title, body=body, kind="script", department="知识管理",
                                                       org_unit_id=w.units[unit], category_keys=cats,
                                                       valid_until=valid_until))
        knowledge.transition(s, admin, a.id, "in_review")
        knowledge.transition(s, admin, a.id, "published", bulk_import=True)  # set-up, not the review
        return a.id


def test_the_current_scripts_of_the_tickets_category_are_compared(world: World) -> None:
    w = world
    _script(w, title="退费到账口径", body="多扣的话费核实后将在7个工作日内退回原支付账户。", cats=("billing",))
    _script(w, title="流量包口径", body="退费按剩余天数折算，3个工作日内退回。", cats=("data",))
    _script(w, title="深圳退费口径", body="退费将在5个工作日内退回原支付账户。", cats=("billing",), unit="sz")
    _script(w, title="限时口径", body="活动期间退费将在1个工作日内退回。", cats=("billing.refund",),
            valid_until=utcnow() + timedelta(days=1))
    with w.db.unit_of_work() as s:
        tid = tickets.create_ticket(s, type="inquiry", subject="话费多扣了", org_unit_id=w.units["gz"],
                                    category_key="billing.refund").id
        bare = tickets.create_ticket(s, type="inquiry", subject="其他", org_unit_id=w.units["gz"]).id
    with w.db.session() as s:
        # the category's and its first level's scripts, of a unit above the ticket's; not another category's or
        # another city's; a dated one only while it is valid
        assert [x.title for x in service.current_scripts(s, tid)] == ["退费到账口径", "限时口径"]
        later = utcnow() + timedelta(days=2)
        assert [x.title for x in service.current_scripts(s, tid, at=later)] == ["退费到账口径"]
        assert tickets.get(s, bare).category_id is None  # type: ignore[union-attr]
        assert service.current_scripts(s, bare) == []


def test_the_inspector_sees_a_reply_that_contradicts_the_script(client, world: World, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.quality.test_prechecks import inspected_reply

    _script(world, title="退费到账口径", body="多扣的话费核实后将在7个工作日内退回原支付账户。", cats=("billing",))
    _, found = inspected_reply(client, world, settings, text="这个月话费多扣了20元", category="billing.refund",
                               reply="您好，核实后3个工作日内退回原支付账户")
    assert [(f["kind"], f["detail"]) for f in found] == [
        ("script_conflict", "3个工作日 ≠ 7个工作日（退费到账口径）")]
