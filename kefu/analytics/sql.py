"""SQL pieces the KPI queries share across SQLite and PostgreSQL: seconds since the Unix epoch of a
timestamp column, exact to the microsecond on both (so a wait of exactly 15 s is 15.0, not 14.9999)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class epoch(FunctionElement[float]):
    """``epoch(col)``: the column's instant as float seconds since 1970-01-01 UTC."""

    type = Float()
    inherit_cache = True
    name = "epoch"


@compiles(epoch, "postgresql")
def _epoch_pg(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    # UTC is stored naive as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from strftime, the fraction as written.
    col = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {col}) AS INTEGER) + COALESCE(CAST(substr({col}, 20) AS REAL), 0.0))"


class ifloor(FunctionElement[int]):
    """``ifloor(x)``: floor of a non-negative number as an integer."""

    type = BigInteger()
    inherit_cache = True
    name = "ifloor"


@compiles(ifloor, "postgresql")
def _ifloor_pg(element: ifloor, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR({compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(ifloor, "sqlite")
def _ifloor_sqlite(element: ifloor, compiler: Any, **kw: Any) -> str:
    # CAST truncates toward zero: the floor for the non-negative values given here.
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"
