"""Shared fixtures: an app on a real database (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), the Flask client, a login helper and the demo data.

On PostgreSQL each pytest run gets its own fresh database (created from TEST_DATABASE_URL's
server and dropped at the end), so parallel runs never share state. The schema is built by the
Alembic migrations, so the tests also prove that ``flask db upgrade`` matches the models.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from rdvpl import create_app
from rdvpl.extensions import db
from rdvpl.models import User
from rdvpl.notify import stop_delivery_loop
from rdvpl.seed import PASSWORDS

STRICT = os.environ.get("RDVPL_STRICT") == "1"  # CI: a skipped test is a failure


def pytest_sessionfinish(session, exitstatus):
    """In CI a skip hides a missing PostgreSQL or browser: turn it into a failure."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if STRICT and reporter and reporter.stats.get("skipped"):
        reporter.write_line(
            f"RDVPL_STRICT: {len(reporter.stats['skipped'])} test(s) skipped: failing the run.",
            red=True,
        )
        session.exitstatus = 1


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database URL for this test run: a fresh PostgreSQL database, or a SQLite file."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = tmp_path_factory.mktemp("db") / "rdvpl-test.sqlite"
        yield f"sqlite:///{path}"
        return
    url = make_url(base)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    name = f"rdvpl_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def _schema(database_url):
    """Build the schema once per run with the Alembic migrations."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def app(_schema):
    """A fresh app on an emptied database; e-mails are delivered synchronously."""
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _schema,
        "WTF_CSRF_ENABLED": False,
        "MAIL_DELIVERY": "sync",
        "MAIL_SERVER": None,
    })
    with app.app_context():
        _empty_all_tables()
    yield app
    stop_delivery_loop(app)  # before the next test's app empties the tables it reads
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def smtp(app):
    """A real SMTP server the app delivers to (synchronously, right after each commit)."""
    from tests.mailsink import MailSink

    sink = MailSink().start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_SUPPRESS_SEND=False)
    yield sink
    sink.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for calling domain functions directly."""
    with app.app_context():
        yield


@pytest.fixture
def paris_clock(monkeypatch):
    """Stops the app's clock (rdvpl.dates: now, today and the Paris wall clock) at an instant
    read on the Paris wall clock; returns that setter, to move it on. Tests written around fixed
    dates (the 2027 daylight-saving change) stop it before them, so that those dates stay ahead
    of "today" whatever the real date; tests of one weekday stop it on that weekday."""
    from rdvpl import dates

    stopped: list[dt.datetime] = []  # empty: the real clock, until the test stops it
    real_now, wall_clock = dates.now, dates.paris_wall_clock

    def stop_at(wall: dt.datetime) -> dt.datetime:
        stopped[:] = [wall.replace(tzinfo=dates.PARIS)]
        return stopped[0]

    def current() -> dt.datetime:
        return stopped[0] if stopped else real_now()

    monkeypatch.setattr(dates, "now", current)
    monkeypatch.setattr(dates, "paris_wall_clock", lambda now=None: wall_clock(now or current()))
    return stop_at


@pytest.fixture
def demo(app):
    """SPEC's demo data, dated relative to today."""
    from rdvpl.seed import seed_demo

    with app.app_context():
        seed_demo()
    return app


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str = "ber011@example.test", password: str | None = None):
        response = self._client.post(
            "/connexion",
            data={"email": email, "password": password or PASSWORDS[email]},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self._client.post("/deconnexion")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def user_by_email(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))
