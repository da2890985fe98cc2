"""`kefu complaints retrain|classify` and `kefu bench classify`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from kefu.complaints.training import Example

complaints_app = typer.Typer(help="Complaints: the intake classifier.", no_args_is_help=True)


@complaints_app.command("retrain")
def retrain(
    data: Path | None = typer.Option(None, help="the shared data folder (default ../shared/data)"),
    out: Path | None = typer.Option(None, help="where to write the model (default: the package's model.json)"),
    corrections: bool = typer.Option(True, help="also learn from the agents' confirmations and corrections"),
) -> None:
    """Train the classifier on the labelled dialogues' training part (the held-out quarter is never used) and
    the agents' reviewed tickets, and write model.json."""
    from kefu.complaints import classifier, training

    data_dir = data or training.default_data_dir()
    if data_dir is None or not (data_dir / training.DATASET).is_dir():
        typer.echo(f"no {training.DATASET} under ../shared/data: pass --data", err=True)
        raise typer.Exit(2)
    examples = [e for e in training.labelled(data_dir) if not training.held_out(e.key)]
    if corrections:
        examples += _reviewed()
    typer.echo(f"training on {len(examples)} examples")
    model = training.fit(examples, log=typer.echo)
    path = out or training.package_model_path()
    training.write(model, path)
    classifier.reset()
    cv = model["cross_validation"]
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); cross-validated category macro-F1 "
               f"{cv['category']['macro_f1']:.3f}, type accuracy {cv['type']['accuracy']:.3f}")


def _reviewed() -> list[Example]:
    from sqlalchemy.exc import SQLAlchemyError

    from kefu.complaints import service, training
    from kefu.core.config import get_settings
    from kefu.core.db import Database

    try:
        db = Database(get_settings().effective_database_url)
        with db.session() as s:
            rows = service.reviewed_examples(s)
    except SQLAlchemyError as exc:
        typer.echo(f"no reviewed tickets read ({type(exc).__name__}); training on the labelled dialogues only")
        return []
    typer.echo(f"{len(rows)} reviewed tickets from the database")
    return [training.Example(k, t, ty, c, e, "reviewed") for k, t, ty, c, e in rows]


@complaints_app.command("classify")
def classify(text: str = typer.Argument(..., help="a customer's text")) -> None:
    """Classify one text with the shipped model."""
    from kefu.complaints import classifier

    p = classifier.classify(text)
    typer.echo(f"type {p.type} ({p.type_confidence:.2f}{', applied' if p.apply_type else ''}); "
               f"category {p.category} ({p.category_confidence:.2f}{', applied' if p.apply_category else ''}); "
               f"escalation {'yes: ' + '、'.join(p.escalation_terms) if p.escalation else 'no'}")


@complaints_app.command("segment")
def segment() -> None:
    """Fit the customer segments on the customers of KEFU_DATABASE_URL and put every customer in theirs (the
    weekly job `complaints.segments` does the same)."""
    from kefu.complaints import customer_segments
    from kefu.core.config import get_settings
    from kefu.core.db import Database

    db = Database(get_settings().effective_database_url)
    with db.unit_of_work() as s:
        m = customer_segments.fit_and_assign(s)
        if m is None:
            typer.echo(f"fewer than {customer_segments.MIN_CUSTOMERS} customers: no segments", err=True)
            raise typer.Exit(1)
        typer.echo(f"{m.customers} customers in {len(m.segments)} segments (kept {', '.join(m.kept)})")
        for seg in m.segments:
            typer.echo(f"  {seg['index']}: {seg['size']:>7} {seg['priority']:<7} x{seg['authority_multiplier']} "
                       f"{seg['offer']:<12} {seg['profile']}")


def bench_classify(
    data: Path | None = typer.Option(None, help="the shared data folder (default ../shared/data)"),
    model: Path | None = typer.Option(None, help="a model file (default: the shipped one)"),
    cv: bool = typer.Option(False, help="also grouped 5-fold cross-validation of both recipes (minutes)"),
) -> None:
    """Macro-F1, per-class F1, confusion matrices and type accuracy on the held-out labelled dialogues,
    against the previous recipe trained in the same run, a keyword baseline (and a zero-shot embedding one);
    load and classify times."""
    from kefu.complaints import bench

    bench.run(data, model, typer.echo, cv=cv)


def bench_surge(
    data: Path | None = typer.Option(None, help="the shared data folder (default ../shared/data)"),
) -> None:
    """The surge detector replayed on the Comcast complaints of 2015: lead time before the data-cap wave's
    peak and false alarms per month, against a naive daily rule in the same run."""
    from kefu.complaints import surge_bench

    surge_bench.run(data, typer.echo)


def bench_segments(
    data: Path | None = typer.Option(None, help="the shared data folder (default ../shared/data)"),
) -> None:
    """Customer segments of telecom-churn-iran (variable selection, k by silhouette and stability), their
    churn rates and handling, and how well they separate churn against random segments in the same run."""
    from kefu.complaints import segments_bench

    segments_bench.run(data, typer.echo)


def register(app: typer.Typer, import_app: typer.Typer, bench_app: typer.Typer) -> None:
    app.add_typer(complaints_app, name="complaints")
    bench_app.command("classify")(bench_classify)
    bench_app.command("surge")(bench_surge)
    bench_app.command("segments")(bench_segments)
