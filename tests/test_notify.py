"""The outbox: stored with the change, delivered after the commit, retried, never lost."""

from __future__ import annotations

import sqlalchemy as sa

from rdvpl.dates import utcnow
from rdvpl.extensions import db
from rdvpl.models import OutboxMail
from rdvpl.notify import deliver_pending, queue_mail
from tests.mailsink import body_text


def _queue_test_mail(app):
    with app.test_request_context():
        queue_mail("test", ["ecole@example.test"], "Sujet de test", "_test", message="Bonjour")
        db.session.commit()


def test_mail_is_delivered_right_after_commit(app, smtp):
    _queue_test_mail(app)
    [message] = smtp.wait_for(count=1, timeout=5)
    assert message["Subject"] == "Sujet de test"
    assert message["To"] == "ecole@example.test"
    assert "Bonjour" in body_text(message)
    with app.app_context():
        row = db.session.scalar(sa.select(OutboxMail))
        assert row.status == "sent" and row.sent_at is not None and row.attempts == 1


def test_rolled_back_change_sends_nothing(app, smtp):
    with app.test_request_context():
        queue_mail("test", ["ecole@example.test"], "Sujet", "_test", message="x")
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMail)) == 0
    assert smtp.wait_for(timeout=0.5) == []


def test_without_mail_server_mail_is_kept_pending(app):
    _queue_test_mail(app)
    with app.app_context():
        row = db.session.scalar(sa.select(OutboxMail))
        assert row.status == "pending" and row.attempts == 0


def test_smtp_down_then_back_delivers_once(app, smtp):
    port = smtp.port
    smtp.stop()
    _queue_test_mail(app)  # delivery fails: the row stays pending with the error
    with app.app_context():
        row = db.session.scalar(sa.select(OutboxMail))
        # An outage is not counted against the mail, which stays due.
        assert row.status == "pending" and row.attempts == 0 and "refused" in row.last_error
        assert row.next_attempt_at <= utcnow()
    smtp.__init__(port)
    smtp.start()
    assert deliver_pending(app) == {"sent": 1, "failed": 0}
    assert deliver_pending(app) == {"sent": 0, "failed": 0}
    assert len(smtp.wait_for(count=1, timeout=5)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(OutboxMail.status)) == "sent"


def test_concurrent_deliverers_send_each_mail_once(app, smtp):
    """Several workers delivering at once (gunicorn): every mail arrives exactly once."""
    import threading

    app.config["MAIL_DELIVERY"] = "off"
    with app.test_request_context():
        for i in range(20):
            queue_mail("test", ["ecole@example.test"], f"Mail {i}", "_test", message=str(i))
        db.session.commit()
    results = []
    barrier = threading.Barrier(4)

    def worker():
        barrier.wait()
        results.append(deliver_pending(app))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 20
    received = smtp.wait_for(count=20, timeout=10)
    assert sorted(m["Subject"] for m in received) == sorted(f"Mail {i}" for i in range(20))
    with app.app_context():
        assert set(db.session.scalars(sa.select(OutboxMail.status))) == {"sent"}


def test_mail_deliver_cli_retries_pending_mail(app, smtp, runner):
    app.config["MAIL_DELIVERY"] = "off"
    _queue_test_mail(app)
    assert smtp.wait_for(timeout=0.3) == []
    result = runner.invoke(args=["mail-deliver"])
    assert result.output == "1 e-mail(s) envoyé(s), 0 non envoyé(s).\n"
    assert len(smtp.wait_for(count=1, timeout=5)) == 1
