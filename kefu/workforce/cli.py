"""`kefu import calllog`, `kefu staff erlang|required|plan` and `kefu simulate`: plain-text tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kefu.core.auth import Principal
    from kefu.core.db import Database

import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from kefu.core.errors import KefuError

MAX_ISSUES_SHOWN = 50

staff_app = typer.Typer(
    help="Staffing: Erlang C/A measures, required agents, a day's plan.", no_args_is_help=True
)


def _system_principal() -> Principal:
    """The operator running the CLI holds the database URL: they act over the whole organisation."""
    from kefu.core.auth import Principal

    return Principal(
        user_id=0,
        username="cli",
        display_name="kefu CLI",
        role="admin",
        org_unit_id=0,
        org_path="/",
        authority_limit=Decimal(0),
    )


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _message(exc: KefuError | ValidationError) -> str:
    if isinstance(exc, KefuError):
        return exc.message
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Right-aligned plain-text columns."""
    cells = [[str(h) for h in headers], *[["" if v is None else str(v) for v in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _f(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _unit_id(session: Any, code: str) -> int:
    from kefu.core.errors import NotFound
    from kefu.org import service as org

    try:
        return org.unit_by_code(session, code).id
    except NotFound:
        raise _fail(f"unknown org unit code '{code}'") from None


def _db() -> Database:
    import kefu.models  # noqa: F401  (every mapper, so foreign keys resolve)
    from kefu.core.config import Settings
    from kefu.core.db import Database

    return Database(Settings().effective_database_url)


def import_calllog(files: Sequence[Path], org_unit: str, tz: str, source: str) -> None:
    from tqdm import tqdm

    from kefu.interactions import calls
    from kefu.workforce.history import ParseIssue, parse_call_log

    parsed_records = []
    issues: list[tuple[str, ParseIssue]] = []
    lines = 0
    for path in files:
        try:
            with path.open(encoding="ascii", errors="replace") as handle:
                rows = handle.readlines()
        except OSError as exc:
            raise _fail(f"cannot read {path}: {exc.strerror or exc}") from None
        lines += max(0, len(rows) - 1)
        parsed = parse_call_log(rows)
        parsed_records.append(parsed.records)
        issues.extend((path.name, i) for i in parsed.issues)
    total = sum(len(r) for r in parsed_records)
    db = _db()
    started = time.perf_counter()
    try:
        with db.unit_of_work() as s, tqdm(total=total, unit="calls", desc="import", leave=False) as bar:
            unit_id = _unit_id(s, org_unit)
            imported = duplicates = ignored = 0
            for records in parsed_records:
                report = calls.import_call_records(
                    s, records, org_unit_id=unit_id, source=source, tz=tz, progress=bar.update
                )
                imported += report.imported
                duplicates += report.duplicates
                ignored += report.ignored
    except KefuError as exc:
        raise _fail(exc.message) from None
    finally:
        db.dispose()
    seconds = time.perf_counter() - started
    rate = total / seconds if seconds > 0 else 0.0
    typer.echo(
        f"{lines} rows read: {imported} imported, {duplicates} duplicates, {ignored} ignored (PHANTOM), "
        f"{len(issues)} unreadable — {seconds:.1f} s, {rate:,.0f} rows/s"
    )
    for name, issue in issues[:MAX_ISSUES_SHOWN]:
        prefix = f"{name} " if len(files) > 1 else ""
        typer.echo(f"{prefix}line {issue.line}: {issue.reason}")
    if len(issues) > MAX_ISSUES_SHOWN:
        typer.echo(f"... and {len(issues) - MAX_ISSUES_SHOWN} more unreadable rows ({len(issues)} in all)")


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    app.add_typer(staff_app, name="staff")

    @bench_app.command("forecast")
    def bench_forecast_cmd(
        data: Path = typer.Option(None, help="call logs' folder (default ../shared/data/callcenter-anonymous-bank)"),
        split: str = typer.Option("1999-06-01", help="first held-out day: the model is chosen on days before it"),
        country: str = typer.Option("IL", help="public holidays of this country (the log's: IL; operators: CN)"),
        quick: bool = typer.Option(True, "--quick/--full", help="quick: leave out the pooled-profile candidates"),
    ) -> None:
        """Forecast WAPE on held-out days: the chosen model, the 8-week same-weekday mean, the seasonal naive."""
        from kefu.workforce import bench

        folder = data or bench.DEFAULT_DATA
        try:
            result = bench.run(folder, split=date.fromisoformat(split), country=country, quick=quick)
        except FileNotFoundError as exc:
            typer.echo(f"skipped: {exc}", err=True)
            raise typer.Exit(0) from None
        typer.echo(bench.report(result))

    @bench_app.command("replay")
    def bench_replay_cmd(
        data: Path = typer.Option(None, help="call logs' folder (default ../shared/data/callcenter-anonymous-bank)"),
        month: str = typer.Option("01", help="the month's log (NN_*.txt)"),
        days: int = typer.Option(10, min=1, max=31, help="its first days with calls"),
        replications: int = typer.Option(5, min=2, max=100),
        seed: int = typer.Option(0),
        ready: bool = typer.Option(True, "--ready/--on-duty",
                                   help="ready: agents ready per slot; on-duty: every half-hour served in"),
        logged_in: bool = typer.Option(False, "--logged-in",
                                       help="agents logged in per slot (first to last call, 30-min gap a logout)"),
        after_call: bool = typer.Option(True, "--after-call/--no-after-call",
                                        help="agents not ready after each call for the day's after-call gaps"),
        km_patience: bool = typer.Option(True, "--km-patience/--exponential-patience",
                                         help="answered calls' patience from the day's Kaplan-Meier law"),
        slot_seconds: int = typer.Option(1, "--slot-seconds", min=1, max=1800,
                                         help="seconds a staffing slot lasts (a divisor of 1800)"),
        documented_credit: bool = typer.Option(
            False, "--documented-credit",
            help="priority customers credited the documented 90 s, not the credit the day's service order shows"),
        type_credit: bool = typer.Option(
            True, "--type-credit/--no-type-credit",
            help="each call type credited the waiting the earlier days' service order shows (NW about -90 s)"),
    ) -> None:
        """Real days replayed with the staffing inferred from the log: predicted vs the log's service level."""
        import time

        from kefu.routing.replay import LONG_GAP, PRIORITY_HEAD_START
        from kefu.workforce import bench

        if 1800 % slot_seconds:
            raise typer.BadParameter(f"{slot_seconds} does not divide 1800", param_hint="--slot-seconds")
        started = time.perf_counter()
        try:
            rows = bench.replay_days(data or bench.DEFAULT_DATA, month=month, days=days,
                                     replications=replications, seed=seed, ready_only=ready and not logged_in,
                                     slot_seconds=slot_seconds if ready or logged_in else 1800,
                                     after_call=after_call,
                                     km_patience=km_patience, logged_in=LONG_GAP if logged_in else None,
                                     head_start=PRIORITY_HEAD_START if documented_credit else None,
                                     type_credit=type_credit)
        except FileNotFoundError as exc:
            typer.echo(f"skipped: {exc}", err=True)
            raise typer.Exit(0) from None
        typer.echo(bench.replay_report(rows, time.perf_counter() - started))

    @import_app.command("calllog")
    def import_calllog_cmd(
        files: list[Path] = typer.Argument(..., help="call-by-call logs (Technion 'Anonymous Bank' format)"),
        org_unit: str = typer.Option(..., "--org-unit", help="code of the org unit whose calls these are"),
        tz: str = typer.Option(
            "UTC",
            "--tz",
            help="zone of the log's clock times (IANA name, e.g. Asia/Jerusalem for the Anonymous Bank)",
        ),
        source: str = typer.Option(
            "calllog",
            "--source",
            help="name kept in each call's external ref; re-importing the same source skips known calls",
        ),
    ) -> None:
        """Import call logs as voice interactions; prints counts and every unreadable row (first 50)."""
        import_calllog(files, org_unit, tz, source)

    @app.command("simulate")
    def simulate_cmd(
        calls: float = typer.Option(..., "--calls", help="calls per interval"),
        agents: int = typer.Option(..., "--agents"),
        aht: float = typer.Option(180, "--aht", help="average handle time, seconds"),
        interval: float = typer.Option(30, "--interval", help="interval, minutes"),
        intervals: int = typer.Option(16, "--intervals", help="how many intervals the day has"),
        patience: float | None = typer.Option(
            None, "--patience", help="mean patience, seconds (none: infinite)"
        ),
        target: float = typer.Option(20, "--target", help="service level threshold, seconds"),
        replications: int = typer.Option(30, "--replications"),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Simulate days of constant load and staffing; estimates with 95 % confidence intervals."""
        from kefu.workforce import service
        from kefu.workforce.schemas import SimulateIn

        try:
            body = SimulateIn(
                calls=[calls] * intervals,
                agents=[agents] * intervals,
                interval_minutes=interval,
                aht=aht,
                patience=patience,
                target_time=target,
                replications=replications,
                seed=seed,
            )
            r = service.simulate(None, None, body)
        except (KefuError, ValidationError) as exc:
            raise _fail(_message(exc)) from None
        rows = []
        for key, label, fmt in (
            ("service_level", f"served within {target:g} s / served", _pct),
            ("service_level_g1", f"served within {target:g} s / (served + late abandons)", _pct),
            ("answer_rate", "answer rate", _pct),
            ("speed_of_answer", "ASA, s", _f),
            ("mean_wait", "mean wait, s", _f),
            ("occupancy", "occupancy", _pct),
            ("arrived", "calls per day", _f),
            ("abandoned", "abandoned per day", _f),
        ):
            e = r[key]
            rows.append((label, fmt(e["mean"]), fmt(e["low"]), fmt(e["high"])))
        typer.echo(
            f"{replications} replications of {intervals} x {interval:g} min, {calls:g} calls and "
            f"{agents} agents per interval, AHT {aht:g} s, patience "
            f"{'infinite' if patience is None else f'{patience:g} s'}"
        )
        typer.echo(table(("measure", "estimate", "95% low", "95% high"), rows))

    @staff_app.command("erlang")
    def erlang_cmd(
        calls: float = typer.Option(..., "--calls", help="calls per interval"),
        interval: float = typer.Option(30, "--interval", help="minutes"),
        aht: float = typer.Option(..., "--aht", help="seconds"),
        agents: int = typer.Option(..., "--agents"),
        patience: float | None = typer.Option(
            None, "--patience", help="mean patience, seconds (adds Erlang A)"
        ),
        target: float = typer.Option(20, "--target", help="service level threshold, seconds"),
    ) -> None:
        """Service level, waiting, abandonment and occupancy for N agents: Erlang C and A side by side."""
        from kefu.workforce import service

        try:
            m = service.erlang_metrics(calls, interval, aht, agents, patience=patience, target_time=target)
        except (KefuError, ValidationError) as exc:
            raise _fail(_message(exc)) from None
        c, a = m["erlang_c"], m["erlang_a"] or {}
        typer.echo(
            f"{calls:g} calls in {interval:g} min, AHT {aht:g} s: load {m['load']:.3f} Erlangs, "
            f"{agents} agents, SL threshold {target:g} s"
        )
        rows = [
            ("P(wait)", _pct(c["p_wait"]), _pct(a.get("p_wait"))),
            (f"service level ({target:g} s)", _pct(c["service_level"]), _pct(a.get("service_level"))),
            ("ASA, s", _f(c["asa"]), _f(a.get("asa"))),
            ("abandon rate", "-", _pct(a.get("p_abandon"))),
            ("occupancy", _pct(c["occupancy"]), _pct(a.get("occupancy"))),
        ]
        typer.echo(
            table(("measure", "Erlang C", "Erlang A" if patience else "Erlang A (give --patience)"), rows)
        )

    @staff_app.command("required")
    def required_cmd(
        calls: float = typer.Option(..., "--calls"),
        interval: float = typer.Option(30, "--interval", help="minutes"),
        aht: float = typer.Option(..., "--aht", help="seconds"),
        sl: float = typer.Option(0.8, "--sl", help="service level target, strictly between 0 and 1"),
        target: float = typer.Option(20, "--target", help="seconds"),
        patience: float | None = typer.Option(None, "--patience", help="seconds; needed for model a"),
        shrinkage: float = typer.Option(0.0, "--shrinkage"),
        model: str = typer.Option("c", "--model", help="a (Erlang A, needs --patience) or c (Erlang C)"),
    ) -> None:
        """Fewest agents meeting the target, and the head count to schedule after shrinkage."""
        from kefu.workforce import service
        from kefu.workforce.schemas import StaffingIn

        if model not in ("a", "c"):
            raise _fail("--model must be 'a' or 'c'")
        try:
            r = service.required_staff(
                StaffingIn(
                    calls=calls,
                    interval_minutes=interval,
                    aht=aht,
                    service_level=sl,
                    target_time=target,
                    patience=patience,
                    shrinkage=shrinkage,
                    model=model,
                )
            )
        except (KefuError, ValidationError) as exc:
            raise _fail(_message(exc)) from None
        rows = []
        for key, label in (("erlang_c", "Erlang C"), ("erlang_a", "Erlang A")):
            if r[key]:
                rows.append(
                    (label, r[key]["agents"], _pct(r[key]["service_level"]), _pct(r[key].get("p_abandon")))
                )
        typer.echo(f"load {r['load']:.3f} Erlangs; target {_pct(sl)} within {target:g} s")
        typer.echo(table(("model", "agents", "service level", "abandon"), rows))
        typer.echo(
            f"required ({model.upper()}): {r['required']}; scheduled with {_pct(shrinkage)} shrinkage: "
            f"{r['scheduled']}"
        )

    @staff_app.command("plan")
    def plan_cmd(
        org_unit: str = typer.Option(..., "--org-unit"),
        day: str = typer.Option(..., "--day", help="YYYY-MM-DD"),
        channel: str = typer.Option("voice", "--channel"),
        interval: int = typer.Option(30, "--interval", help="15, 30 or 60 minutes"),
        tz: str = typer.Option("UTC", "--tz"),
        sl: float = typer.Option(0.8, "--sl"),
        target: float = typer.Option(20, "--target"),
        model: str = typer.Option("a", "--model", help="a (Erlang A, default) or c (Erlang C, conservative)"),
        volume: float = typer.Option(1.0, "--volume", help="what-if: scale the forecast volume"),
        aht_scale: float = typer.Option(1.0, "--aht-scale", help="what-if: scale the handle time"),
        shrinkage: float = typer.Option(0.0, "--shrinkage"),
        time_limit: float = typer.Option(10.0, "--time-limit", help="CP-SAT seconds"),
        save: str | None = typer.Option(None, "--save", help="save the plan under this name"),
    ) -> None:
        """A day's plan from the unit's call history: forecast, required agents, shifts, coverage."""
        from kefu.workforce import service
        from kefu.workforce.schemas import PlanIn

        try:
            the_day = date.fromisoformat(day)
        except ValueError:
            raise _fail(f"--day must be YYYY-MM-DD, got {day!r}") from None
        if model not in ("a", "c") or interval not in (15, 30, 60):
            raise _fail("--model must be a or c and --interval 15, 30 or 60")
        db = _db()
        try:
            with db.unit_of_work() as s:
                body = PlanIn(
                    org_unit_id=_unit_id(s, org_unit),
                    channel=channel,
                    day=the_day,
                    interval_minutes=interval,
                    tz=tz,
                    service_level=sl,
                    target_time=target,
                    model=model,
                    volume_scale=volume,
                    aht_scale=aht_scale,
                    shrinkage=shrinkage,
                    time_limit=time_limit,
                    name=save,
                )
                principal = _system_principal()
                if save:
                    saved = service.save_plan(s, principal, body)
                    p, plan_id = saved.result, saved.id
                else:
                    p, plan_id = service.compute_plan(s, principal, body), None
        except (KefuError, ValidationError) as exc:
            raise _fail(_message(exc)) from None
        finally:
            db.dispose()
        _print_plan(p, plan_id)


def _print_plan(p: dict[str, Any], plan_id: int | None) -> None:
    sm = p["summary"]
    typer.echo(
        f"plan for {p['day']} ({p['channel']}, {p['interval_minutes']}-min intervals, model "
        f"{p['model'].upper()}): AHT {p['aht']:.0f} s, patience {p['patience']:.0f} s, "
        f"target {_pct(p['service_level_target'])} within {p['target_time']:g} s, "
        f"{p['history_days']} history days"
    )
    rows = [
        (
            r["start"],
            _f(r["forecast"]),
            r["actual"],
            r["required_a"],
            r["required_c"],
            r["scheduled"],
            _pct(r["service_level"]),
            _pct(r["abandon_rate"]),
        )
        for r in p["intervals"]
        if (r["forecast"] or 0) > 0 or r["scheduled"] > 0 or r["actual"]
    ]
    typer.echo(
        table(("interval", "forecast", "actual", "req A", "req C", "scheduled", "SL", "abandon"), rows)
    )
    typer.echo("")
    typer.echo(
        table(
            ("start", "end", "break", "paid h", "agents"),
            [
                (s["start"], s["end"], s["break_start"] or "-", s["paid_hours"], s["agents"])
                for s in p["shifts"]
            ],
        )
    )
    typer.echo("")
    typer.echo(
        f"day: {sm['calls']:.0f} calls, service level {_pct(sm['service_level'])}, answer rate "
        f"{_pct(sm['answer_rate'])}, abandonment {_pct(sm['abandon_rate'])}; {sm['agents']} agents, "
        f"{sm['paid_hours']} paid hours, {sm['under_intervals']} intervals short ({sm['solver_status']})"
    )
    if plan_id is not None:
        typer.echo(f"saved as plan {plan_id}")
