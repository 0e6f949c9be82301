"""Pooled database connections: one lost while idle (the database restarted, a firewall dropped
it) is replaced before a request uses it, so the agent sees the page, not an error."""

from __future__ import annotations

import sqlalchemy as sa

from rdvpl import extensions
from rdvpl.extensions import db

AGENT = "ber011@example.test"


def lose_idle_connections(engine: sa.Engine) -> int:
    """What a database restart does to the pool's idle connections: PostgreSQL ends their
    backends; SQLite's are closed under the pool. Returns how many were lost."""
    if engine.dialect.name == "postgresql":
        admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool,
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            lost = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        admin.dispose()
        return lost
    records = list(engine.pool._pool.queue)  # the idle connections of the QueuePool
    for record in records:
        record.dbapi_connection.close()
    return len(records)


def test_a_connection_lost_while_idle_is_replaced_before_the_page(demo, client, auth,
                                                                   monkeypatch):
    auth.login(AGENT)
    assert client.get("/ber/creneaux").status_code == 200
    with demo.app_context():
        engine = db.engine
    assert lose_idle_connections(engine) >= 1
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE", 0.0)  # every idle one is checked

    response = client.get("/ber/creneaux")

    assert response.status_code == 200
    assert "Gérer les créneaux" in response.get_data(as_text=True)


def test_a_connection_used_a_moment_ago_is_not_checked(demo, client, auth, monkeypatch):
    """The check costs a round trip: a connection back in the pool for less than
    PING_AFTER_IDLE seconds goes straight to the next request."""
    auth.login(AGENT)
    client.get("/ber/creneaux")
    with demo.app_context():
        engine = db.engine
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or True)

    assert client.get("/ber/creneaux").status_code == 200
    assert pings == []
    monkeypatch.setattr(extensions, "PING_AFTER_IDLE", 0.0)
    assert client.get("/ber/creneaux").status_code == 200
    assert len(pings) >= 1
