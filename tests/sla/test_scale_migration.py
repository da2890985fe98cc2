"""Migration 0505 moves the answers stored on the old 1-3 scale (1 satisfied, 2 neutral, 3 unsatisfied) onto
the 1-5 scale (5 best) and back on downgrade; a fresh SQLite file, the data written as the old code did."""

from __future__ import annotations

import sqlite3

from kefu.core.migrate import downgrade, upgrade


def _choices(path: str) -> list[int | None]:
    with sqlite3.connect(path) as con:
        return [r[0] for r in con.execute("SELECT choice FROM sla_surveys ORDER BY id")]


def test_old_answers_keep_their_meaning_on_the_five_point_scale(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = f"{tmp_path}/k.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    downgrade(url, "0504_sla_escalation_queue")
    with sqlite3.connect(path) as con:
        for choice in (1, 2, 3, None):
            con.execute("INSERT INTO sla_surveys (ticket_id, customer_id, org_unit_id, channel, status, choice, "
                        "sent_at, expires_at) VALUES (1, 1, 1, 'sms', ?, ?, '2026-03-02 01:00:00', "
                        "'2026-03-05 01:00:00')", ("sent" if choice is None else "answered", choice))
    upgrade(url)
    assert _choices(path) == [4, 3, 2, None]  # 满意, 一般, 不满意
    with sqlite3.connect(path) as con:
        con.execute("UPDATE sla_surveys SET choice = 5 WHERE choice = 4")
        con.execute("INSERT INTO sla_surveys (ticket_id, customer_id, org_unit_id, channel, status, choice, "
                    "sent_at, expires_at) VALUES (1, 1, 1, 'sms', 'answered', 1, '2026-03-02 01:00:00', "
                    "'2026-03-05 01:00:00')")
    downgrade(url, "0504_sla_escalation_queue")
    assert _choices(path) == [1, 2, 3, None, 3]


def test_0506_closes_the_follow_ups_0505_made_of_old_answers_and_no_other(db_url: str, world) -> None:  # type: ignore[no-untyped-def]
    """Old answers (before 0505: the 1-3 scale, events without a score) and answers the application took since
    (events with their score, one follow-up closed by a supervisor): after 0506 only the old unsatisfied
    answers' follow-ups are closed, with the reason and nobody as the closer; a downgrade reopens them."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from kefu.customers import service as customers
    from kefu.sla import surveys as sla_surveys
    from kefu.tickets import service as tickets

    with world.db.unit_of_work() as s:
        c, _ = customers.identify(s, kind="phone", value="13800138009", org_unit_id=world.units["gz"])
        tid = tickets.create_ticket(s, type="inquiry", subject="宽带掉线", org_unit_id=world.units["gz"],
                                    customer_id=c.id).id
        cid = c.id
    world.db.dispose()
    sup = world.users["sup_gd"]
    at = datetime(2026, 3, 2, 1, tzinfo=UTC)
    outbox = sa.table("outbox_events", sa.column("name"), sa.column("aggregate_type"), sa.column("aggregate_id"),
                      sa.column("payload", sa.JSON()), sa.column("occurred_at"), sa.column("attempts"))
    eng = sa.create_engine(db_url)

    def add(choice: int, *, event: dict | None, **more: object) -> int:  # type: ignore[type-arg]
        with eng.begin() as con:
            row = {"ticket_id": tid, "customer_id": cid, "org_unit_id": world.units["gz"], "channel": "sms",
                   "status": "answered", "choice": choice, "sent_at": at, "expires_at": at, "answered_at": at}
            table = sa.table("sla_surveys", *(sa.column(n) for n in ["id", *row, *more]))
            sid = int(con.execute(table.insert().values(**row, **more).returning(table.c.id)).scalar_one())
            if event is not None:
                con.execute(outbox.insert().values(name="survey.unsatisfied", aggregate_type="ticket",
                                                   aggregate_id=tid, payload={"survey_id": sid, **event},
                                                   occurred_at=at, attempts=0))
            return sid

    try:
        downgrade(db_url, "0504_sla_escalation_queue")
        old_evented = add(3, event={"ticket_id": tid, "agent_id": None})  # the old code's event: no score
        old_silent = add(3, event=None)
        old_happy = add(1, event=None)
        upgrade(db_url, "0505_sla_five_point_scale")
        new_two = add(2, event={"ticket_id": tid, "agent_id": None, "choice": 2})
        new_one = add(1, event={"ticket_id": tid, "agent_id": None, "choice": 1})
        new_closed = add(2, event={"ticket_id": tid, "agent_id": None, "choice": 2}, followed_up_at=at,
                         followed_up_by_id=sup, follow_up_note="已回电致歉")
        upgrade(db_url)

        def rows() -> dict[int, tuple[object, ...]]:
            with eng.connect() as con:
                return {r.id: (r.choice, r.followed_up_at is not None, r.followed_up_by_id, r.follow_up_note)
                        for r in con.execute(sa.text("SELECT id, choice, followed_up_at, followed_up_by_id, "
                                                     "follow_up_note FROM sla_surveys"))}

        reason = ("迁移关闭：旧三分制的“不满意”答复（迁移0505换算为2分），不作跟进。"
                  "Closed by migration 0506: an answer on the old 1-3 scale, not a follow-up.")
        after = rows()
        assert after == {old_evented: (2, True, None, reason), old_silent: (2, True, None, reason),
                         old_happy: (4, False, None, None), new_two: (2, False, None, None),
                         new_one: (1, False, None, None), new_closed: (2, True, sup, "已回电致歉")}
        with world.db.session() as s:
            assert [r.id for r in sla_surveys.followups(s, None)] == [new_two, new_one]
        downgrade(db_url, "0505_sla_five_point_scale")
        assert rows() == {**after, old_evented: (2, False, None, None), old_silent: (2, False, None, None)}
        upgrade(db_url)
    finally:
        eng.dispose()
