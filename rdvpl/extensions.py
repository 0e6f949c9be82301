"""Flask extensions, created at module level and bound in create_app()."""

import functools
import sqlite3
import time

from flask import Flask, has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

db = SQLAlchemy(metadata=metadata)
migrate = Migrate()
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()
htmx = Htmx()
# Settings (RATELIMIT_*) come from rdvpl/config.py; limits are declared on the views.
limiter = Limiter(key_func=get_remote_address)
# The endpoints whose views declare a limit (app.extensions key, set by note_rate_limited).
_LIMITED_ENDPOINTS = "rdvpl.rate_limited_endpoints"


def note_rate_limited(app: Flask) -> None:
    """Once the blueprints are registered, run Flask-Limiter's request hooks only for the
    endpoints whose views declare a limit (``@limiter.limit``): every other request skips its
    work of finding out that no limit applies to it (a twelfth of a page served from the grid
    cache). A decorated view checks its limits itself when called; the hooks add the
    conditional deductions (``deduct_when``) after it. Only when no default or
    application-wide limit is configured, which would apply everywhere."""
    if app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION"):
        return
    marked = limiter._marked_for_limiting  # noqa: SLF001 - what @limiter.limit records
    limited = frozenset(endpoint for endpoint, view in app.view_functions.items()
                        if get_qualified_name(view) in marked)
    app.extensions[_LIMITED_ENDPOINTS] = limited

    def its_own(hook) -> bool:
        bound = getattr(hook, "__self__", None) or next(iter(getattr(hook, "args", ())), None)
        return bound is limiter

    def only_where_limited(hook, answer_of_a_skip):
        @functools.wraps(hook)
        def guarded(*args):
            if request.endpoint in limited:
                return hook(*args)
            return answer_of_a_skip(*args)
        return guarded

    for hooks, skip in ((app.before_request_funcs, lambda: None),
                        (app.after_request_funcs, lambda response: response),
                        (app.teardown_request_funcs, lambda error=None: None)):
        chain = hooks.get(None, [])
        hooks[None] = [only_where_limited(hook, skip) if its_own(hook) else hook
                       for hook in chain]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # noqa: ARG001
    """SQLite: enforce foreign keys (ON DELETE CASCADE), WAL for concurrent readers, and wait
    for a busy writer instead of failing at once."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLAlchemy emits BEGIN itself (_sqlite_begin), not the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


# A pooled connection idle this long (seconds) is checked before use (ping_idle_connections).
PING_AFTER_IDLE = 5.0
_IDLE_SINCE = "rdvpl.idle_since"


def ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before a request uses it, when it has been idle for
    PING_AFTER_IDLE seconds or more: a dead one (the database restarted, failed over, or a
    firewall dropped an idle link) is replaced by a fresh one, and the request never sees it.

    SQLAlchemy's ``pool_pre_ping`` does the same check on every checkout, a round trip to the
    database on every request (a tenth of a page served from the grid cache); a connection used
    a few seconds ago is alive unless the server went away since, when requests in flight fail
    anyway."""

    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection, record):  # noqa: ARG001
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):  # noqa: ARG001
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - whatever the driver says, it is unusable
            # The pool discards the connection and checks out another (a new one if need be).
            raise DisconnectionError(f"idle connection lost: {error}") from error


# The execution option that makes a SQLite transaction begin as a writer (write_transaction).
_SQLITE_BEGIN = "rdvpl_sqlite_begin"


_READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _default_begin() -> str:
    """DEFERRED for a request that only reads (GET: a page or a fragment), so that it never
    waits for a writer nor holds the write lock while it renders; IMMEDIATE for everything else
    (POST requests, the CLI, the mail loop), so that a write path that forgot
    write_transaction() still waits its turn instead of failing with "database is locked"."""
    if has_request_context() and request.method in _READING_METHODS:
        return "DEFERRED"
    return "IMMEDIATE"


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: how a transaction begins (see _default_begin); write_transaction() asks for
    IMMEDIATE explicitly."""
    if conn.dialect.name == "sqlite":
        mode = conn.get_execution_options().get(_SQLITE_BEGIN) or _default_begin()
        conn.exec_driver_sql(f"BEGIN {mode}")


def begin_reading() -> None:
    """before_request: a GET (a page or a fragment: reads only) on PostgreSQL reads in
    autocommit, saving the BEGIN and ROLLBACK round trips around its statements (two of the
    three a page served from the grid cache makes). Under READ COMMITTED every statement sees
    the latest commits either way. A write in such a request calls write_transaction() first,
    which ends the reading: the write then runs in a transaction of its own."""
    if request.method not in _READING_METHODS:
        return
    session = db.session()
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def write_transaction(session=None) -> None:
    """Begin the caller's transaction as a writer: every domain operation that writes calls
    this first (pages and fragments that only read never do).

    SQLite: BEGIN IMMEDIATE takes the database's single write lock now, waiting its turn
    (busy_timeout) behind another writer. Writing from a DEFERRED transaction would instead fail
    at once with "database is locked" whenever another writer committed after its first read
    (its WAL snapshot is stale), so two agents racing for a unit would get a 500 rather than a
    clean refusal. Taking the lock only here keeps it off reads: a page renders while another
    agent's reservation is being written. The read-only transaction the request opened before
    (the signed-in user) is ended first; it wrote nothing, and the objects it loaded are
    reloaded under the lock. PostgreSQL (row locks, READ COMMITTED): only a GET's autocommit
    reading is ended first (begin_reading), so that the write is one transaction.
    """
    session = session if session is not None else db.session()  # the request's Session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        if session.in_transaction() and session.connection().get_execution_options().get(
                "isolation_level") == "AUTOCOMMIT":
            session.commit()  # end the reading (see begin_reading): the write gets a transaction
        return
    if dialect != "sqlite":
        return
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={_SQLITE_BEGIN: "IMMEDIATE"})
