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
