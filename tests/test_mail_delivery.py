"""Promised e-mails arrive without anyone typing a command (issue 8 §3), against a real SMTP
server: an outage, a hung server, a killed deliverer, a mail the server keeps refusing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from rdvpl.dates import utcnow
from rdvpl.extensions import db
from rdvpl.models import OutboxMail
from rdvpl.notify import deliver_pending, queue_mail
from tests.mailsink import SilentServer

ROOT = Path(__file__).resolve().parent.parent


def wait_until(condition, timeout: float = 20.0):
    """Poll ``condition`` until it returns something truthy (returned), or the timeout (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    return None


def rows(app) -> list[OutboxMail]:
    with app.app_context():
        found = db.session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return found


def queue(app, n: int, *, one_commit_each: bool = True) -> list[str]:
    subjects = [f"Mail {i}" for i in range(n)]
    with app.test_request_context():
        for subject in subjects:
            queue_mail("test", ["ecole@example.test"], subject, "_test", message=subject)
            if one_commit_each:
                db.session.commit()  # as n separate reservations would
        db.session.commit()
    return subjects


def in_thread_mode(app, **config):
    """The production set-up: each process delivers in its own loop (fast, for the test)."""
    app.config.update(MAIL_DELIVERY="thread", MAIL_LOOP_SECONDS=0.2, **config)


def test_after_an_outage_the_loop_alone_delivers_every_pending_mail(app, smtp):
    """Issue 8: SMTP down, reservations, SMTP back: every mail arrives, no request, no command."""
    in_thread_mode(app)
    port = smtp.port
    smtp.stop()
    subjects = queue(app, 30)
    # The loop kept trying while the server was down: a round per mail tried, each a new one.
    assert wait_until(lambda: sum(bool(r.last_error) for r in rows(app)) >= 3)

    smtp.__init__(port)
    smtp.start()  # the server is back: from now on nobody does anything
    received = smtp.wait_for(count=30, timeout=20)
    assert sorted(m["Subject"] for m in received) == sorted(subjects)
    assert len(smtp.wait_for(count=31, timeout=0.5)) == 30  # each once
    assert wait_until(lambda: {r.status for r in rows(app)} == {"sent"})


def test_each_process_starts_its_own_loop_and_a_fork_gets_a_new_one(app, smtp):
    """A loop thread does not survive fork(): a forked worker must start its own."""
    from rdvpl import notify

    in_thread_mode(app)
    parent_loop = notify.delivery_loop(app)
    assert parent_loop is not None and parent_loop.is_alive()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it got a fresh, running loop of its own
        ok = False
        try:
            child_loop = notify.delivery_loop(app)
            ok = child_loop is not parent_loop and child_loop.is_alive()
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)
    assert answer == b"1"
    assert notify.delivery_loop(app) is parent_loop


def test_a_stopped_loop_records_the_mail_in_flight_and_claims_no_other(app, smtp):
    """A worker's exit stops its loop (gunicorn.conf.py): the mail the server is accepting is
    recorded sent, the next ones stay pending, unclaimed, for the other processes."""
    from rdvpl import notify

    app.config.update(MAIL_DELIVERY="off")
    queue(app, 3)
    smtp.answer_after = 1.0
    in_thread_mode(app)
    notify.delivery_loop(app)
    assert smtp.received.wait(10)  # the first mail is in flight
    notify.stop_delivery_loop(app)
    assert [m["Subject"] for m in smtp.messages] == ["Mail 0"]
    assert [(r.status, r.claimed_until) for r in rows(app)] == [
        ("sent", None), ("pending", None), ("pending", None)]


def test_loop_not_started_when_delivery_is_sync_or_off_or_no_server(app):
    from rdvpl import notify

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_DELIVERY="sync")
    assert notify.delivery_loop(app) is None
    app.config.update(MAIL_DELIVERY="off")
    assert notify.delivery_loop(app) is None
    app.config.update(MAIL_DELIVERY="thread", MAIL_SERVER=None)
    assert notify.delivery_loop(app) is None


def test_a_hung_server_blocks_neither_the_request_nor_the_loop_for_long(demo, client, auth):
    """A server that accepts the connection and never answers: the reservation's response does
    not wait for it, and the delivery attempt gives up after MAIL_TIMEOUT (no greeting)."""
    from tests.helpers import school
    from tests.test_booking_mail import friday_units

    silent = SilentServer()
    try:
        in_thread_mode(demo, MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.port, MAIL_TIMEOUT=2,
                       MAIL_SUPPRESS_SEND=False)
        with demo.app_context():
            ids = [u.id for u in friday_units()]
            school_id = school().id
        auth.login("ber011@example.test")
        response = client.post("/ber/creneaux/reservation",
                               data={"unit": ids, "school_id": school_id})
        assert response.status_code == 200
        assert "Réservation enregistrée !" in response.get_data(as_text=True)
        [row] = rows(demo)
        # Answered before the delivery attempt could end: it is not in the request's path.
        assert row.status == "pending" and row.last_error is None

        row = wait_until(lambda: next((r for r in rows(demo) if r.last_error), None))
        assert row is not None, "the attempt never gave up"
        assert "timed out" in row.last_error and silent.connections
        assert row.status == "pending" and row.attempts == 0  # an outage: tried again later
    finally:
        silent.close()


def test_a_killed_deliverer_loses_nothing_and_sends_nothing_twice(app, smtp):
    """`kill -9` of a process in the middle of a delivery run: once its lease has expired, the
    loop delivers every remaining mail, each once, with the Message-ID stored with it."""
    app.config["MAIL_DELIVERY"] = "off"
    queue(app, 6, one_commit_each=False)
    smtp.hold_from = 3  # the third mail hangs in DATA: the deliverer dies right there
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": "test", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
           "MAIL_DELIVERY": "off"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "mail-deliver"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert smtp.holding.wait(60), "the deliverer never reached the third mail"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    smtp.release()

    before = rows(app)
    assert [r.status for r in before] == ["sent", "sent"] + ["pending"] * 4
    claimed = [r for r in before if r.claimed_until and r.claimed_until > utcnow()]
    assert len(claimed) == 1  # one mail at a time is claimed, never a batch
    assert len(smtp.messages) == 2

    with app.app_context():  # five minutes later: the dead deliverer's lease has expired
        db.session.execute(sa.update(OutboxMail).where(OutboxMail.id == claimed[0].id)
                           .values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
        db.session.commit()
    smtp.hold_from = None
    in_thread_mode(app)
    app.test_client().get("/sante")  # any request starts this process's loop

    received = smtp.wait_for(count=6, timeout=20)
    assert len(smtp.wait_for(count=7, timeout=0.5)) == 6
    after = rows(app)
    assert sorted(m["Message-ID"] for m in received) == sorted(r.message_id for r in after)
    assert {r.status for r in after} == {"sent"}
    # The mail the dead process was sending arrives once, with the Message-ID it had then.
    assert smtp.attempts[2]["Message-ID"] == claimed[0].message_id
    assert [m["Message-ID"] for m in received].count(claimed[0].message_id) == 1


def test_a_retry_carries_the_same_message_id(app, smtp):
    app.config["MAIL_DELIVERY"] = "off"
    queue(app, 1)
    smtp.answer = "451 4.7.1 Réessayez plus tard"
    assert deliver_pending(app) == {"sent": 0, "failed": 1}
    smtp.answer = None
    assert deliver_pending(app, ignore_backoff=True) == {"sent": 1, "failed": 0}
    [row] = rows(app)
    assert [m["Message-ID"] for m in smtp.attempts] == [row.message_id, row.message_id]
    assert row.message_id.startswith("<") and "@" in row.message_id


def test_every_mail_has_its_own_message_id(app):
    queue(app, 3)
    ids = [r.message_id for r in rows(app)]
    assert len(set(ids)) == 3 and all(ids)


def test_after_twenty_refusals_the_mail_is_failed_and_kept(app, smtp, runner):
    app.config.update(MAIL_DELIVERY="off", MAIL_RETRY_SECONDS=0)  # no waiting between tries
    queue(app, 1)
    smtp.answer = "554 5.7.1 Refusé"
    for _ in range(25):
        deliver_pending(app)
    [row] = rows(app)
    assert row.status == "failed" and row.attempts == 20
    assert "554" in row.last_error and "Refusé" in row.last_error
    assert len(smtp.attempts) == 20  # never retried after that, never dropped

    result = runner.invoke(args=["mail-deliver"])
    assert "1 e-mail(s) en échec" in result.output and "--failed" in result.output
    assert len(smtp.attempts) == 20

    smtp.answer = None
    result = runner.invoke(args=["mail-deliver", "--failed"])
    assert "1 e-mail(s) envoyé(s)" in result.output
    assert len(smtp.wait_for(count=1, timeout=5)) == 1
    assert rows(app)[0].status == "sent"


def test_a_mail_pending_for_48_hours_is_failed_not_sent(app, smtp):
    app.config["MAIL_DELIVERY"] = "off"
    queue(app, 2)
    with app.app_context():
        old = db.session.scalar(sa.select(OutboxMail).order_by(OutboxMail.id))
        old.created_at = utcnow() - dt.timedelta(hours=48, minutes=1)
        old.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
        db.session.commit()
    assert deliver_pending(app) == {"sent": 1, "failed": 0}
    first, second = rows(app)
    assert first.status == "failed" and "Connection refused" in first.last_error
    assert second.status == "sent"


def test_an_unreachable_server_is_not_counted_against_the_mail(app, smtp):
    """An outage is not the mail's failure: it stays due (no backoff, no attempt counted), so
    that it leaves as soon as the server is back, and a long outage never fails it before 48 h."""
    app.config["MAIL_DELIVERY"] = "off"
    queue(app, 3)
    port = smtp.port
    smtp.stop()
    for _ in range(30):
        deliver_pending(app)
    assert all(r.status == "pending" and r.attempts == 0 for r in rows(app))
    assert any("refused" in (r.last_error or "") for r in rows(app))
    smtp.__init__(port)
    smtp.start()
    assert deliver_pending(app) == {"sent": 3, "failed": 0}


def test_mail_deliver_now_ignores_the_backoff(app, smtp, runner):
    app.config["MAIL_DELIVERY"] = "off"
    queue(app, 1)
    smtp.answer = "451 4.7.1 Réessayez plus tard"
    deliver_pending(app)
    smtp.answer = None
    [row] = rows(app)
    assert row.next_attempt_at > utcnow()  # waiting before its next try

    assert "0 e-mail(s) envoyé(s)" in runner.invoke(args=["mail-deliver"]).output
    assert "1 e-mail(s) envoyé(s)" in runner.invoke(args=["mail-deliver", "--now"]).output
    assert len(smtp.wait_for(count=1, timeout=5)) == 1


def test_smtp_connection_has_a_timeout(app):
    """Flask-Mail opens smtplib.SMTP without a timeout: a hung server would block forever."""
    from rdvpl.notify import _send

    silent = SilentServer()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=silent.port, MAIL_TIMEOUT=0.5,
                          MAIL_DELIVERY="off", MAIL_SUPPRESS_SEND=False)
        queue(app, 1)
        with app.app_context():
            row = db.session.scalar(sa.select(OutboxMail))
            with pytest.raises(OSError, match="timed out"):  # smtplib may wrap the TimeoutError
                _send(row)
    finally:
        silent.close()
