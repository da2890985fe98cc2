"""`kefu bench wall` through typer's CliRunner on a small generated day."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from kefu.cli import app


def test_bench_wall_prints_latency_against_a_count_of_the_same_rows() -> None:
    result = CliRunner().invoke(app, ["bench", "wall", "--contacts", "1000", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "generated 1,000 contacts of one day" in out
    assert re.search(r"reference: COUNT\(\*\) of the day's rows \(1,000\): \d+\.\d ms", out)
    assert re.search(r"summary tables rebuilt from the raw rows \(\d+ contacts\)", out)
    for label in ("KPI tallies per 15 min x channel x unit (raw rows)", "supervisor wall (all tiles, summary tables)",
                  "daily report (by hour from the summaries; complaints, FCR raw)"):
        assert re.search(rf"{re.escape(label)}: \d+\.\d ms \(\d+\.\d x the COUNT, \d+\.\d x the row scan\)", out)


def test_bench_reports_prints_latency_against_a_sum_over_the_same_summary_rows() -> None:
    result = CliRunner().invoke(app, ["bench", "reports", "--interactions", "20000", "--days", "3", "--cities", "3",
                                      "--agents", "20", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"generated the summary rows of 19,99\d interactions over 3 days", out)
    assert re.search(r"reference: analytics_hourly, the period's [\d,]+ rows: COUNT\(\*\) \d+\.\d ms, SUM\(offered\) "
                     r"\(reads each row; 19,99\d offered\)", out)
    for label, table in (("supervisor wall on the last day", "analytics_hourly"),
                         ("a row per agent, the whole period", "analytics_daily_agents"),
                         ("complaints and FCR per category x tier, the whole period", "analytics_daily_quality"),
                         ("complaints and FCR per agent, the whole period", "analytics_daily_quality_handlers"),
                         ("occupancy per agent, the whole period (agent days)", "analytics_agent_days"),
                         ("occupancy per day, the whole period (agent days)", "analytics_agent_days"),
                         ("occupancy per hour of the last day", "analytics_agent_hours"),
                         ("per agent x category, the whole period (agent x category roll-up)",
                          "analytics_daily_agent_topics"),
                         ("handoff report (rate, from x to, completed, returned, minutes saved), the whole period",
                          "analytics_daily_handoffs"),
                         ("repeat contacts, channel switches and the channel recommendation per task type "
                          "(one read), the whole period", "analytics_daily_returns"),
                         ("journeys before a complaint, the whole period", "analytics_daily_paths"),
                         ("journeys that ended in an escalation, the whole period", "analytics_daily_paths"),
                         ("satisfaction (CSAT), the whole period", "analytics_daily_surveys"),
                         ("channel use by customer tier, the whole period", "analytics_daily_tiers")):
        assert re.search(rf"{re.escape(label)}: \d+\.\d ms \(\d+\.\d x the SUM over {table}\)", out)
    seconds = {t: re.search(rf"reference: {t}, the period's [\d,]+ rows: COUNT\(\*\) \d+\.\d ms, "
                            r"SUM\(seconds\) \(reads each row; ([\d,]+) seconds\)", out)
               for t in ("analytics_agent_hours", "analytics_agent_days")}
    assert all(seconds.values())
    # the agent days hold the agent hours' seconds, no more, no less
    assert seconds["analytics_agent_hours"].group(1) == seconds["analytics_agent_days"].group(1)  # type: ignore[union-attr]
