"""Engine, sessions and the declarative base.

Services flush, never commit: the request (or job) owns the transaction through `unit_of_work`.
SQLite runs in WAL mode with foreign keys on; PostgreSQL is selected with KEFU_DATABASE_URL.

Transactions on SQLite: kefu emits BEGIN itself (the driver's own implicit transactions are off, the
SQLAlchemy recipe for pysqlite), so savepoints behave and a transaction that will write can say so up
front: `unit_of_work(write=True)` begins with BEGIN IMMEDIATE and takes SQLite's one write lock at once,
so its reads and writes are one consistent step. Writers then queue on the busy timeout instead of
failing: a deferred transaction that read first and writes later cannot upgrade its lock once another
writer has committed (SQLITE_BUSY_SNAPSHOT), and no timeout helps it. A reader (a GET request) holds no
transaction while it only reads, so it never waits and never goes stale; if it writes after all (a search
log line), BEGIN IMMEDIATE is emitted just before that first write. On PostgreSQL `write` changes nothing.
"""

from __future__ import annotations

import logging
import random
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT primary keys on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes everywhere: stored as UTC, read back aware on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def insert_unless_exists(dialect: str, table: Any, *conflict: str) -> Any:
    """INSERT ... ON CONFLICT (conflict columns) DO NOTHING for the dialect ("postgresql", "sqlite"):
    with RETURNING, no row comes back when the row existed (or a concurrent transaction committed it
    first). Build it once and execute it with parameters: building costs more than running."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(conflict))


def one_of(dialect: str, column: Any, name: str) -> Any:
    """`column IN (the ids bound as `name` at execution)`: on PostgreSQL `column = ANY(array)`, one parameter
    whatever the list's length, so the statement's text stays the same (the driver's and the server's
    caches keep it; a list of n ids is otherwise a new statement of n parameters parsed each time);
    elsewhere an expanding IN. Build it once per dialect and execute it with the list."""
    if dialect == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
    from sqlalchemy import bindparam

    return column.in_(bindparam(name, expanding=True))


def among(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """`column IN values` for a query built per call (a batch's ids): on PostgreSQL `column = ANY(array)`,
    whose text is the same whatever the number of values (see `one_of`), elsewhere IN."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # no implicit BEGIN from the driver: _sqlite_begin emits it
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


# Execution option naming how a SQLite transaction begins: "DEFERRED" (default) or "IMMEDIATE".
SQLITE_BEGIN = "kefu_sqlite_begin"


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    # A reader begins nothing: its reads run on their own until a first write (_sqlite_write_begins).


_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER"})


def _sqlite_write_begins(conn: Any, cursor: Any, statement: str, *_rest: Any) -> None:
    """Before a reader's first write, take the write lock (BEGIN IMMEDIATE): the write and what follows
    are one transaction, which the session's commit or rollback ends."""
    dbapi = cursor.connection
    if not dbapi.in_transaction and statement.lstrip()[:10].partition(" ")[0].upper() in _WRITES:
        dbapi.execute("BEGIN IMMEDIATE")


def make_engine(url: str, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        from pathlib import Path

        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               pool_size=kw.pop("pool_size", 8), max_overflow=kw.pop("max_overflow", 16), **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "before_cursor_execute", _sqlite_write_begins)
        return engine
    return create_engine(url, pool_size=kw.pop("pool_size", 10), max_overflow=kw.pop("max_overflow", 20),
                         pool_pre_ping=True, **_raw_placeholders(url), **kw)


def _raw_placeholders(url: str) -> dict[str, Any]:
    """psycopg: SQLAlchemy writes PostgreSQL's own placeholders ($1, $2 ...) and psycopg's RawCursor sends the
    statement as it is. With the default cursor psycopg parses every statement for %(name)s placeholders in
    Python and rewrites it, caching only those of at most 50 parameters: a multi-row INSERT of a batch (an
    event consumer's flush, 500 events) cost ~0.3 ms a row in that parsing alone."""
    if not url.startswith("postgresql+psycopg"):
        return {}
    import psycopg

    return {"paramstyle": "numeric_dollar", "connect_args": {"cursor_factory": psycopg.RawCursor}}


class Database:
    """One per process: the engine and the session factory."""

    def __init__(self, url: str, **engine_kw: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kw)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # The same pool; on SQLite its transactions begin IMMEDIATE (they will write).
        self.write_engine = self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        self.write_sessionmaker = sessionmaker(self.write_engine, expire_on_commit=False, autoflush=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A bare session (caller commits); `write` as for `unit_of_work`."""
        s = (self.write_sessionmaker if write else self.sessionmaker)()
        try:
            yield s
        finally:
            s.close()

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: commit on success, roll back on error. Events are dispatched after commit.

        A unit of work is a writer's: on SQLite it takes the write lock when it begins, so concurrent
        writers wait their turn instead of failing (see the module docstring). `write=False` for one
        that only reads (a GET request), which then never waits for a writer."""
        s = (self.write_sessionmaker if write else self.sessionmaker)()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()


# ---- bookkeeping after commit -----------------------------------------------------------------

_AFTER_COMMIT = "kefu_after_commit"
log = logging.getLogger("kefu.db")


def xact_lock(session: Session, name: str) -> None:
    """Make the transactions that name ``name`` take turns until each ends: on PostgreSQL an advisory
    transaction lock keyed by the name's CRC-32; SQLite's writers take turns already, so none there."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("select pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(name.encode())})


def after_commit(session: Session, work: Callable[[Session], None]) -> None:
    """Run `work` in a short write transaction of its own once the session's transaction has committed
    (dropped if it rolls back): bookkeeping (a token's last use, an audit line for a read) that must not
    make a reading transaction write. On SQLite a reader cannot write once another writer committed
    after it began, and taking the write lock inside a request that already holds one would wait on
    itself; on PostgreSQL it keeps read requests free of writes."""
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


def is_reader(session: Session) -> bool:
    """Whether the session's transactions are a reader's, which must not write on SQLite (see
    `after_commit`). PostgreSQL transactions may always write."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite" and bind.get_execution_options().get(SQLITE_BEGIN) != "IMMEDIATE"


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    works: list[Callable[[Session], None]] = session.info.pop(_AFTER_COMMIT, [])
    if not works:
        return
    bind = session.get_bind()
    writer = bind.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    try:
        with Session(writer) as s, s.begin():
            for work in works:
                work(s)
    except DBAPIError:  # the request has committed: report, do not fail it
        log.exception("could not write the bookkeeping of a committed transaction")


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


# ---- lost races -----------------------------------------------------------------------------

_T = TypeVar("_T")
# SQLSTATEs of PostgreSQL errors that say "run the transaction again": serialization failure, deadlock.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(exc: BaseException) -> bool:
    """A database error that a fresh run of the same transaction can get past: a deadlock or
    serialization failure on PostgreSQL, a busy database on SQLite. (A unique violation is not: the
    caller decides whether its work can see the winner on a second run.)"""
    if not isinstance(exc, DBAPIError) or isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def retrying(session: Session, work: Callable[[], _T], *, lost_race: Callable[[BaseException], bool],
                attempts: int = 5) -> _T:
    """Run `work` in the session's transaction; when it fails with an error that `lost_race` says a
    fresh run can get past (another transaction committed first), roll the whole transaction back and
    run it again, up to `attempts` times, with a short random pause so racers do not meet again.

    For the owner of the transaction (a request, a job): the session must hold no other work."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == attempts or not (lost_race(exc) or is_transient(exc)):
                raise
            session.rollback()
            time.sleep(random.uniform(0, 0.005 * attempt))
    raise AssertionError("unreachable")
