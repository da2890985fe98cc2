"""SQL pieces the KPI queries share across SQLite and PostgreSQL: seconds since the Unix epoch of a
timestamp column, exact to the microsecond on both (so a wait of exactly 15 s is 15.0, not 14.9999)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Float, String
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


class first_segment(FunctionElement[str]):
    """``first_segment(col)``: the text before the first '.' (all of it when there is none): a category
    key's first level (``billing.refund`` -> ``billing``)."""

    type = String()
    inherit_cache = True
    name = "first_segment"


@compiles(first_segment, "postgresql")
def _first_segment_pg(element: first_segment, compiler: Any, **kw: Any) -> str:
    return f"split_part({compiler.process(element.clauses, **kw)}, '.', 1)"


@compiles(first_segment, "sqlite")
def _first_segment_sqlite(element: first_segment, compiler: Any, **kw: Any) -> str:
    col = compiler.process(element.clauses, **kw)
    return f"(CASE WHEN instr({col}, '.') > 0 THEN substr({col}, 1, instr({col}, '.') - 1) ELSE {col} END)"


class local_year(FunctionElement[int]):
    """``local_year(seconds)``: the calendar year of this many seconds since the epoch (a local instant when
    the zone's offset is added first)."""

    type = BigInteger()
    inherit_cache = True
    name = "local_year"


@compiles(local_year, "postgresql")
def _local_year_pg(element: local_year, compiler: Any, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"CAST(EXTRACT(YEAR FROM TIMESTAMP '1970-01-01' + ({seconds}) * INTERVAL '1 second') AS BIGINT)"


@compiles(local_year, "sqlite")
def _local_year_sqlite(element: local_year, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%Y', {compiler.process(element.clauses, **kw)}, 'unixepoch') AS INTEGER)"
