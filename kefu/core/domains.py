"""The domains of kefu, found by their files: one package per domain under `kefu/`.

A domain plugs into the whole by convention, so adding one touches no shared list:

- `kefu/<domain>/models.py`    mapped tables (imported for the schema: Alembic, tests)
- `kefu/<domain>/api.py`       `router`: JSON endpoints, mounted under /api/v1
- `kefu/<domain>/views.py`     `router`: console pages; optionally `NAV` (main-menu entries) and
                               `ticket_panel(session, principal, ticket)` (a box on the ticket page),
                               `customer_panel(session, principal, customer)` (a box on the customer page)
- `kefu/<domain>/jobs.py`, `kefu/<domain>/consumers.py`   `@job`s and event consumers (see kefu.jobs)
- `kefu/<domain>/i18n/<locale>.json`   the domain's console strings (merged over web/i18n)
- `kefu/<domain>/templates/`   its templates (the console's loader searches every domain's folder)

`web` is the shell and `core` the kernel: they are not domains.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = Path(__file__).resolve().parent.parent
NOT_DOMAINS = frozenset({"core", "web", "migrations", "bench", "demo", "scaled", "__pycache__"})


@cache
def names() -> tuple[str, ...]:
    """The domain packages, sorted by name (the order is stable, so mounting is reproducible)."""
    return tuple(sorted(
        p.name for p in PACKAGE_DIR.iterdir()
        if p.is_dir() and p.name not in NOT_DOMAINS and (p / "__init__.py").exists()
    ))


def module_names(suffix: str) -> tuple[str, ...]:
    """`kefu.<domain>.<suffix>` for every domain that has that module."""
    return tuple(f"kefu.{d}.{suffix}" for d in names() if (PACKAGE_DIR / d / f"{suffix}.py").exists())


def modules(suffix: str) -> list[ModuleType]:
    return [importlib.import_module(name) for name in module_names(suffix)]


def folders(sub: str) -> list[Path]:
    """`kefu/<domain>/<sub>/` for every domain that has it."""
    return [PACKAGE_DIR / d / sub for d in names() if (PACKAGE_DIR / d / sub).is_dir()]


def panels(hook: str, *args: object) -> list[tuple[str, dict[str, object]]]:
    """The boxes domains add to a page: each views module's `hook(*args)` (`customer_panel(session, principal,
    customer)`) gives (template, context) or None; the page includes each template with the context as `p`."""
    found = []
    for module in modules("views"):
        panel = getattr(module, hook, None)
        if callable(panel) and (box := panel(*args)) is not None:
            found.append(box)
    return found
