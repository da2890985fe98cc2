"""`kefu import calllog`, `kefu staff ...` and `kefu simulate` through typer's CliRunner."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.core.db import Database
from kefu.interactions.models import Interaction
from tests.conftest import World, shared_data
from tests.workforce.support import make_log, row

runner = CliRunner()
DAY = date(1999, 3, 1)


@pytest.fixture
def env(db_url: str, world: World) -> dict[str, str]:
    return {"KEFU_DATABASE_URL": db_url}


def _voice(db: Database) -> int:
    with db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(Interaction).where(Interaction.channel == "voice")) or 0
        )


def test_import_calllog_reports_bad_rows_by_line_and_reimport_adds_nothing(
    tmp_path: Path, db: Database, env: dict[str, str]
) -> None:
    lines = make_log(DAY, 3)
    lines.insert(4, row(1, DAY, 9 * 3600, outcome="HANG").replace("9:00:00", "9:00:75", 1))
    lines.insert(8, "AA0101\t2\t0")
    log = tmp_path / "03_March.txt"
    log.write_text("\n".join(lines) + "\n", encoding="ascii")
    good = len(lines) - 3  # header and two bad rows
    r = runner.invoke(app, ["import", "calllog", str(log), "--org-unit", "GZ"], env=env)
    assert r.exit_code == 0, r.output
    assert (
        f"{len(lines) - 1} rows read: {good} imported, 0 duplicates, 0 ignored (PHANTOM), 2 unreadable"
        in r.output
    )
    assert "line 5: bad time '9:00:75'" in r.output
    assert "line 9: expected 17 tab-separated fields, got 3" in r.output
    assert _voice(db) == good
    again = runner.invoke(app, ["import", "calllog", str(log), "--org-unit", "GZ"], env=env)
    assert again.exit_code == 0, again.output
    assert f"0 imported, {good} duplicates" in again.output
    assert _voice(db) == good


def test_import_calllog_caps_the_printed_problems(tmp_path: Path, env: dict[str, str]) -> None:
    bad = [row(i, DAY, 3600, outcome="HANG").replace("\tHANG\t", "\tLOST\t") for i in range(60)]
    log = tmp_path / "bad.txt"
    log.write_text("\n".join([make_log(DAY, 1)[0], *bad]), encoding="ascii")
    r = runner.invoke(app, ["import", "calllog", str(log), "--org-unit", "GZ"], env=env)
    assert r.exit_code == 0, r.output
    assert len(re.findall(r"^line \d+: bad outcome 'LOST'$", r.output, flags=re.M)) == 50
    assert "... and 10 more unreadable rows (60 in all)" in r.output


def test_import_calllog_unknown_unit_or_zone_fails_cleanly(tmp_path: Path, env: dict[str, str]) -> None:
    log = tmp_path / "log.txt"
    log.write_text("\n".join(make_log(DAY, 1)), encoding="ascii")
    r = runner.invoke(app, ["import", "calllog", str(log), "--org-unit", "NOPE"], env=env)
    assert r.exit_code == 2
    assert "unknown org unit code 'NOPE'" in r.output
    r = runner.invoke(
        app, ["import", "calllog", str(log), "--org-unit", "GZ", "--tz", "Mars/Olympus"], env=env
    )
    assert r.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in r.output


def test_staff_erlang_prints_c_and_a() -> None:
    r = runner.invoke(
        app,
        [
            "staff",
            "erlang",
            "--calls",
            "100",
            "--interval",
            "30",
            "--aht",
            "180",
            "--agents",
            "14",
            "--patience",
            "300",
            "--target",
            "20",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "load 10.000 Erlangs" in r.output
    assert re.search(r"service level \(20 s\)\s+88\.8%\s+9\d\.\d%", r.output), r.output


def test_staff_required_with_shrinkage() -> None:
    r = runner.invoke(
        app,
        [
            "staff",
            "required",
            "--calls",
            "100",
            "--aht",
            "180",
            "--sl",
            "0.8",
            "--target",
            "20",
            "--shrinkage",
            "0.3",
            "--model",
            "c",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "required (C): 14; scheduled with 30.0% shrinkage: 20" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--calls", "0"], "arrival_rate must be a finite number > 0"),
        (["--calls", "100", "--sl", "1.5"], "must lie strictly between 0 and 1, got 1.5"),
    ],
)
def test_staff_required_refuses_bad_input(args: list[str], message: str) -> None:
    base = {"--calls": "100", "--aht": "180"}
    argv = ["staff", "required", "--aht", base["--aht"], *args]
    r = runner.invoke(app, argv)
    assert r.exit_code == 2
    assert message in r.output


def test_staff_plan_from_history(tmp_path: Path, env: dict[str, str]) -> None:
    log = tmp_path / "log.txt"
    log.write_text("\n".join(make_log(DAY, 21)), encoding="ascii")
    assert runner.invoke(app, ["import", "calllog", str(log), "--org-unit", "GZ"], env=env).exit_code == 0
    r = runner.invoke(
        app,
        ["staff", "plan", "--org-unit", "GD", "--day", "1999-03-22", "--time-limit", "5", "--save", "周一"],
        env=env,
    )
    assert r.exit_code == 0, r.output
    assert "plan for 1999-03-22 (voice, 30-min intervals, model A)" in r.output
    assert "0 intervals short" in r.output
    assert re.search(r"saved as plan \d+", r.output)
    bad = runner.invoke(app, ["staff", "plan", "--org-unit", "GD", "--day", "1999-13-01"], env=env)
    assert bad.exit_code == 2
    assert "--day must be YYYY-MM-DD" in bad.output


def test_simulate_prints_confidence_intervals() -> None:
    r = runner.invoke(
        app,
        [
            "simulate",
            "--calls",
            "100",
            "--agents",
            "14",
            "--aht",
            "180",
            "--patience",
            "300",
            "--replications",
            "10",
            "--intervals",
            "4",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "10 replications of 4 x 30 min" in r.output
    m = re.search(r"answer rate\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%", r.output)
    assert m is not None, r.output
    mean, low, high = (float(g) for g in m.groups())
    assert low <= mean <= high
    bad = runner.invoke(app, ["simulate", "--calls", "100", "--agents", "14", "--replications", "1"])
    assert bad.exit_code == 2
    assert "replications: Input should be greater than or equal to 2" in bad.output


@pytest.mark.realdata
def test_real_month_imports_every_readable_row(tmp_path: Path) -> None:
    from kefu.core.migrate import upgrade
    from kefu.org import service as org
    from kefu.workforce.history import read_call_log

    january = shared_data("callcenter-anonymous-bank", "01_January.txt")
    url = f"sqlite:///{tmp_path / 'real.sqlite3'}"
    upgrade(url)
    db = Database(url)
    with db.unit_of_work() as s:
        org.create_org_unit(s, kind="group", code="BANK", name="Anonymous Bank")
    parsed = read_call_log([january])
    rows = sum(1 for _ in january.open(encoding="ascii", errors="replace")) - 1
    phantom = sum(1 for r in parsed.records if r.outcome.value == "PHANTOM")
    r = runner.invoke(
        app,
        ["import", "calllog", str(january), "--org-unit", "BANK", "--tz", "Asia/Jerusalem"],
        env={"KEFU_DATABASE_URL": url},
    )
    assert r.exit_code == 0, r.output
    imported = int(re.search(r"(\d+) imported", r.output).group(1))  # type: ignore[union-attr]
    unreadable = int(re.search(r"(\d+) unreadable", r.output).group(1))  # type: ignore[union-attr]
    assert unreadable == len(parsed.issues)
    assert imported + phantom == rows - unreadable
    assert _voice(db) == imported
    print(re.search(r"[\d.]+ s, [\d,]+ rows/s", r.output).group(0))  # type: ignore[union-attr]
    db.dispose()
